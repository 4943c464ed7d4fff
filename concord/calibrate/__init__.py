"""Calibration: concord's harness held against pgbench on the same transaction and server.

    from concord.calibrate import Calibration, calibrate
    report = calibrate(Calibration(workers=(1, 8, 50), duration_s=3, rounds=7))
    for row in report.rows:
        print(row.workers, row.executor, row.ratio)

The transaction is the `counter` scenario under `pessimistic`. pgbench's script is generated from
the very statements concord's hot path prepares (the ``read`` and ``write`` of
``Counter().program(...)``), with ``$n`` turned into pgbench variables, run with ``-M prepared``
on the same server, the same table and a fixture row of the same shape; the increment is computed
client-side (``\\set``), as concord does in Python between the read and the write. Rounds
alternate the two clients (pgbench first on even rounds, concord first on odd ones) so a drift in
the machine's load hits both; each row reports the median throughput of each side and the median
of the per-round ratios.

With ``floor`` a third client joins each round: the plainest Python client there is (`run_floor`:
a thread per connection calling psycopg's libpq wrapper directly, no concord code in its loop).
Its throughput against pgbench's is what Python and psycopg cost on this machine; concord's
against it is what concord's own harness costs on top.
"""

from concord.calibrate.floor import FloorStatements, floor_statements, run_floor
from concord.calibrate.harness import CounterOnRow, concord_cell, run_concord
from concord.calibrate.pgbench import (
    PgbenchMissing,
    find_pgbench,
    pgbench_connection,
    pgbench_script,
    run_pgbench,
)
from concord.calibrate.plan import EXECUTORS, TARGET_RATIO, Calibration, whole_seconds
from concord.calibrate.report import CalibrationReport, Row, write_report
from concord.calibrate.rounds import calibrate, prepare

__all__ = [
    "EXECUTORS",
    "TARGET_RATIO",
    "Calibration",
    "CalibrationReport",
    "CounterOnRow",
    "FloorStatements",
    "PgbenchMissing",
    "Row",
    "calibrate",
    "concord_cell",
    "find_pgbench",
    "floor_statements",
    "pgbench_connection",
    "pgbench_script",
    "prepare",
    "run_concord",
    "run_floor",
    "run_pgbench",
    "whole_seconds",
    "write_report",
]
