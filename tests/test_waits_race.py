"""Where the time went, on the real server: the issue's trial (8 workers), the server's counters
against the clients', the NOWAIT holders, every executor, and the noise that spoiled the counts
(a ROLLBACK with no transaction open, a cancel sent to a backend that had gone)."""

from __future__ import annotations

import time

import psycopg
import pytest
from test_race_support import dsn, url_text

from concord.race import Experiment, run_experiment
from concord.race.cell import cancel_backends, terminate_backends
from concord.race.libpq import LibpqSession
from concord.race.worker import _rollback

RC = "read committed"


def race(database_url, scenario: str, strategy: str, **options):
    experiment = Experiment(
        scenario=scenario,
        strategies=(strategy,),
        isolations=(RC,),
        workers=(options.pop("workers", 8),),
        **{"duration_s": 1.5, "max_tries": 1000, **options},
    )
    [cell] = run_experiment(experiment, database_url=url_text(database_url)).cells
    assert cell.worker_errors == [] and cell.waits is not None and cell.server is not None
    assert cell.waits.get("error") is None
    return cell


def counter(cell, name: str) -> tuple[int, int]:
    [line] = [r for r in cell.server["reconciliation"] if r["counter"] == name]
    return line["server"], line["clients"]


def test_pessimistic_counter_workers_spend_at_least_a_third_of_their_time_waiting_on_locks(database_url):
    cell = race(database_url, "counter", "pessimistic")
    waits = cell.waits
    assert waits["groups"]["lock"] >= 1 / 3, waits["profile"]
    assert sum(v for k, v in waits["profile"].items() if k.startswith("Lock:")) == pytest.approx(
        waits["groups"]["lock"], abs=1e-3
    )
    assert waits["blocking"] and waits["max_waiters"] >= 2
    assert {e["waiter"] for e in waits["blocking"]} <= set(range(8))
    assert waits["samples"] >= 25 and waits["interval_ms"] == 20.0
    assert sum(waits["profile"].values()) == pytest.approx(1.0, abs=0.01)


def test_advisory_counter_workers_wait_most_on_the_advisory_lock(database_url):
    cell = race(database_url, "counter", "advisory")
    top = max(cell.waits["profile"].items(), key=lambda item: item[1])
    assert top[0] == "Lock:advisory", cell.waits["profile"]


def test_skip_locked_claims_spend_under_a_tenth_of_their_time_in_lock_waits(database_url):
    cell = race(database_url, "claim-queue", "skip_locked")
    assert cell.waits["groups"].get("lock", 0.0) < 0.1, cell.waits["profile"]


def test_pessimistic_transfers_report_exactly_the_deadlocks_the_server_counted(database_url):
    cell = race(database_url, "transfer", "pessimistic", duration_s=2.5)
    server, clients = counter(cell, "deadlocks")
    assert server == clients == cell.conflicts["deadlock"] >= 1
    assert cell.server["deadlocks"] == server
    # every failed attempt rolled back once; no ROLLBACK after a failed COMMIT counts a second time
    assert counter(cell, "xact_rollback") == (cell.attempts - cell.commits,) * 2


@pytest.mark.parametrize("executor", ["threads", "processes", "asyncio"])
def test_every_executor_samples_its_workers_and_matches_the_servers_rollbacks(database_url, executor):
    cell = race(database_url, "counter", "optimistic", workers=4, executor=executor, duration_s=None, ops=200)
    assert cell.commits == 200 and cell.conflicts["stale_version"] > 0
    assert counter(cell, "xact_rollback") == (cell.attempts - cell.commits,) * 2
    assert counter(cell, "deadlocks") == (0, 0)
    assert cell.waits["samples"] >= 1 and cell.waits["workers_sampled"] == 4
    assert cell.waits["cpu"]["client_cores"] >= 0 and cell.waits["cpu"]["cores"] >= 1


def test_a_failed_nowait_names_its_holder_where_the_server_logs_it(database_url):
    cell = race(database_url, "counter", "nowait", duration_s=1.0)
    nowait = cell.waits["nowait"]
    with psycopg.connect(dsn(database_url)) as conn:
        version = conn.info.server_version
    if version < 180000:
        assert nowait == {
            "available": False,
            "reason": f"PostgreSQL {version // 10000} has no log_lock_failures (18 and later)",
        }
        return
    assert nowait["available"], nowait
    assert nowait["logged"] == cell.conflicts["lock_not_available"] > 0
    assert sum(h["failures"] for h in nowait["holders"] if h["holder"] is not None) >= 1
    assert {h["waiter"] for h in nowait["holders"]} <= set(range(8))


def test_a_race_without_waits_samples_nothing(database_url):
    experiment = Experiment(scenario="counter", strategies=("none",), workers=(2,), ops=20, waits=False)
    [cell] = run_experiment(experiment, database_url=url_text(database_url)).cells
    assert cell.waits is None and cell.server is None and cell.commits == 20


def test_a_worker_sends_no_rollback_when_no_transaction_is_open(database_url):
    with psycopg.connect(dsn(database_url), autocommit=True) as conn:
        notices: list[str] = []
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        session = LibpqSession(conn, RC)
        session.pgconn.exec_(b"CREATE TEMP TABLE once (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        session.begin()
        session.pgconn.exec_(b"INSERT INTO once VALUES (1), (1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            session.commit()  # the COMMIT fails and ends the transaction itself
        assert not session.in_transaction()
        _rollback(session)
        assert notices == []
        session.pgconn.exec_(b"ROLLBACK")  # what the worker used to send: the server complains
        assert notices == ["there is no transaction in progress"]


def test_the_coordinator_signals_no_backend_that_has_already_gone(database_url):
    gone = psycopg.connect(dsn(database_url), autocommit=True)
    pid = gone.info.backend_pid
    gone.close()
    with psycopg.connect(dsn(database_url), autocommit=True) as control:
        while control.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() != (
            0,
        ):
            time.sleep(0.01)  # the backend leaves on its own once the client closed
        notices: list[str] = []
        control.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        cancel_backends(control, [pid])
        terminate_backends(control, [pid])
        assert notices == []
        control.execute("SELECT pg_cancel_backend(%s)", (pid,))  # what the coordinator used to send
        assert notices == [f"PID {pid} is not a PostgreSQL backend process"]


def test_every_cell_of_an_experiment_is_sampled_on_the_one_sampler_connection(database_url):
    experiment = Experiment(
        scenario="counter", strategies=("pessimistic", "advisory"), workers=(4, 2), ops=100, max_tries=1000
    )
    cells = run_experiment(experiment, database_url=url_text(database_url)).cells
    assert [(c.strategy, c.workers) for c in cells] == [
        ("pessimistic", 4),
        ("pessimistic", 2),
        ("advisory", 4),
        ("advisory", 2),
    ]
    for cell in cells:
        assert cell.waits is not None and "error" not in cell.waits, cell.waits
        assert cell.waits["samples"] >= 1 and cell.waits["workers_sampled"] == cell.workers
        assert counter(cell, "xact_rollback") == (0, 0)


def test_a_role_that_cannot_see_the_servers_log_is_told_why_nowait_holders_are_unknown(database_url):
    from concord.race.waits.nowait_log import LogWatch

    role = f"waits_probe_{database_url.database}"
    with psycopg.connect(dsn(database_url), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        try:
            version = admin.info.server_version
            if version >= 180000:  # allowed to set it, but not to see where the log is
                admin.execute(f'GRANT SET ON PARAMETER log_lock_failures TO "{role}"')
            with psycopg.connect(dsn(database_url), user=role, autocommit=True) as conn:
                reason = LogWatch.open(conn).reason
        finally:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
    if version < 180000:
        assert reason == f"PostgreSQL {version // 10000} has no log_lock_failures (18 and later)"
    else:
        assert reason == "this role may not see where the server logs (data_directory, pg_current_logfile)"
