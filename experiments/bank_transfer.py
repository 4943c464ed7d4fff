"""Bank transfers between ten accounts: read both balances, write both back.

A user-style scenario (it imports nothing from concord): race it with

    concord race --scenario experiments/bank_transfer.py:bank \\
        --strategy none,pessimistic,ordered,optimistic,advisory --isolation "read committed,serializable"

Each transaction moves a random amount between two random accounts the read-modify-write way: it
reads both balances, computes the new ones in Python and writes them back. Without protection two
transfers touching the same account both read its old balance and the second write overwrites the
first: money appears or disappears. The invariant is that the total never changes.
"""

ACCOUNTS = 10
OPENING_BALANCE = 1_000


class BankTransfer:
    """Transfers between ten accounts as read-modify-write; the bank's total must not change."""

    name = "bank-transfer"
    invariant = f"the {ACCOUNTS} accounts always hold {ACCOUNTS * OPENING_BALANCE:,} in total"
    default_strategies = ("none", "pessimistic", "ordered", "optimistic", "advisory")

    def setup(self, conn):
        # Run once per cell: recreate, so every cell starts from the same state.
        conn.execute("DROP TABLE IF EXISTS accounts")
        conn.execute(
            "CREATE TABLE accounts (id integer PRIMARY KEY, balance integer NOT NULL,"
            " version integer NOT NULL DEFAULT 0)"
        )
        conn.execute(
            "INSERT INTO accounts (id, balance) SELECT n, %s FROM generate_series(0, %s) AS n",
            (OPENING_BALANCE, ACCOUNTS - 1),
        )

    def transaction(self, tx):
        source, target = tx.rng.sample(range(ACCOUNTS), 2)
        amount = tx.rng.randint(1, 50)
        tx.lock("accounts", source, target)  # the cell's strategy: FOR UPDATE, advisory lock, or nothing
        (from_balance,) = tx.read("accounts", source, ["balance"])
        (to_balance,) = tx.read("accounts", target, ["balance"])
        tx.write("accounts", source, {"balance": from_balance - amount})
        tx.write("accounts", target, {"balance": to_balance + amount})

    def check(self, conn):
        (total,) = conn.execute("SELECT sum(balance) FROM accounts").fetchone()
        expected = ACCOUNTS * OPENING_BALANCE
        if total == expected:
            return []
        return [f"the accounts hold {total:,} in total, not {expected:,} ({total - expected:+,})"]


bank = BankTransfer()
