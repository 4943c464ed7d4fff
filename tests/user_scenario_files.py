"""Support for the user-scenario tests (no tests here): scenario files concord has never seen.

`BANK` is a bank of three accounts written the way a user would write it. Its ``racing`` object
forces the lost update instead of hoping for it: the first transaction of workers 0 and 1 (0
moves from account 0 to 1, 1 from account 1 to 2) reads both balances, then waits at a barrier
until the other has read too, and only then writes. So both read account 1's old balance before
either writes it, whatever the scheduler does. Its ``bank`` object has no barrier and locks its
accounts in ascending order (no deadlock waits under pessimistic).
"""

from __future__ import annotations

from pathlib import Path

BANK = """
import threading

ACCOUNTS = 3
OPENING = 100


class Bank:
    name = "test-bank"
    invariant = "the accounts hold 300 in total"

    def __init__(self, barrier):
        self.barrier = barrier
        self.met = None
        self.past = set()

    def setup(self, conn):
        conn.execute("DROP TABLE IF EXISTS accounts")
        conn.execute(
            "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, version int NOT NULL DEFAULT 0)"
        )
        conn.execute(
            "INSERT INTO accounts (id, balance) SELECT n, %s FROM generate_series(0, %s) n",
            (OPENING, ACCOUNTS - 1),
        )
        self.met, self.past = threading.Barrier(2, timeout=20), set()

    def transaction(self, tx):
        if self.barrier:
            source, target = (0, 1) if tx.worker == 0 else (1, 2)
        else:
            source, target = tx.rng.sample(range(ACCOUNTS), 2)
        tx.lock("accounts", *sorted((source, target)))
        (from_balance,) = tx.read("accounts", source, ["balance"])
        (to_balance,) = tx.read("accounts", target, ["balance"])
        if self.barrier and tx.worker not in self.past:
            self.past.add(tx.worker)
            self.met.wait()  # both workers have read; now both write
        tx.write("accounts", source, {"balance": from_balance - 10})
        tx.write("accounts", target, {"balance": to_balance + 10})

    def check(self, conn):
        (total,) = conn.execute("SELECT sum(balance) FROM accounts").fetchone()
        return [] if total == ACCOUNTS * OPENING else [f"the accounts hold {total} in total, not 300"]


racing = Bank(barrier=True)
bank = Bank(barrier=False)
"""


def write(folder: Path, text: str = BANK, name: str = "mybank.py") -> Path:
    path = folder / name
    path.write_text(text)
    return path
