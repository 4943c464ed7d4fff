"""pgbench as calibrate's yardstick: found, scripted from concord's own statements, run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from concord.calibrate.plan import whole_seconds
from concord.errors import ConcordError

_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)


class PgbenchMissing(ConcordError):
    """No pgbench next to the embedded server's binaries nor on PATH."""


def find_pgbench() -> Path:
    """pgbench from the embedded server's wheel, else from PATH; `PgbenchMissing` if neither."""
    try:
        from concord.db.embedded import EmbeddedServer

        shipped = EmbeddedServer.default().bin_dir() / "pgbench"
        if shipped.exists():
            return shipped
    except Exception:  # no wheel, or it cannot say: fall back to PATH
        pass
    found = shutil.which("pgbench")
    if found is None:
        raise PgbenchMissing(
            "pgbench not found: install PostgreSQL's client tools or the embedded server wheel"
        )
    return Path(found)


def pgbench_script(
    read_sql: bytes, read_names: tuple[str, ...], write_sql: bytes, write_names: tuple[str, ...]
) -> str:
    """The counter transaction as a pgbench script, from concord's own prepared statements.

    The read's columns land in pgbench variables (``\\gset``: ``points``, ``version``), the
    increment is done client-side, and the write binds the new value, as concord's worker does.
    """
    read = _variables(read_sql.decode(), read_names)
    write = _variables(write_sql.decode(), write_names)
    return f"BEGIN;\n{read} \\gset\n\\set points :points + 1\n{write};\nCOMMIT;\n"


def _variables(numbered: str, names: tuple[str, ...]) -> str:
    flat = " ".join(numbered.split())
    return re.sub(r"\$(\d+)", lambda m: ":" + names[int(m.group(1)) - 1], flat)


def pgbench_connection(dsn: str) -> tuple[list[str], dict[str, str]]:
    """pgbench's connection arguments and environment from a libpq URL (host may be a socket dir)."""
    info = conninfo_to_dict(dsn)
    args, env = [], {}
    for key, flag in (("host", "-h"), ("port", "-p"), ("user", "-U")):
        if info.get(key):
            args += [flag, str(info[key])]
    if info.get("password"):
        env["PGPASSWORD"] = str(info["password"])
    args.append(str(info.get("dbname") or ""))
    return args, env


def run_pgbench(
    pgbench: Path, script: Path, dsn: str, task_id: int, workers: int, duration_s: float, jobs: int
) -> float:
    """One pgbench run of ``script``; its tps (without initial connection time)."""
    conn_args, env = pgbench_connection(dsn)
    command = [
        str(pgbench), "-n", "-M", "prepared", "-f", str(script), "-D", f"task_id={task_id}",
        "-c", str(workers), "-j", str(jobs), "-T", str(whole_seconds(duration_s)),
        *conn_args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env}, check=False)
    match = _TPS.search(done.stdout)
    if done.returncode != 0 or match is None:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConcordError(f"pgbench failed (exit {done.returncode}): {last}")
    return float(match.group(1))
