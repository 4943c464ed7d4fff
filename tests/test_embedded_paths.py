"""The embedded server in awkward places: a CONCORD_HOME with a space, a full disk."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from concord.db.embedded import EmbeddedServer


def concord(home: Path, *args: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("CONCORD_DATABASE_URL", "CONCORD_DEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "concord", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**environ, "CONCORD_HOME": str(home)},
        check=False,
    )


@pytest.fixture
def spaced_home():
    home = Path(tempfile.mkdtemp(prefix="concord sp ")) / "my home"
    yield home
    concord(home, "db", "stop")
    shutil.rmtree(home.parent, ignore_errors=True)
    for alias in Path(tempfile.gettempdir()).glob("concord-pg-*"):
        if not alias.exists():  # a link whose home is gone
            alias.unlink()


def test_a_concord_home_with_spaces_in_its_path_runs_and_stops_the_embedded_server(spaced_home):
    listed = concord(spaced_home, "board", "list", "--json")
    stopped = concord(spaced_home, "db", "stop")

    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "[]\n", "")
    assert (stopped.returncode, stopped.stdout) == (0, "embedded server stopped\n")
    assert (spaced_home / "pg18" / "PG_VERSION").read_text() == "18\n"  # the data lives in the home


@pytest.fixture
def tiny_disk():
    """A 1 MiB tmpfs (mounting needs root, which the test machines and CI have)."""
    mountpoint = Path(tempfile.mkdtemp(prefix="concord-tiny-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)], check=False)
    if mounted.returncode != 0:
        mountpoint.rmdir()
        pytest.skip("cannot mount a tmpfs here (not root?)")
    yield mountpoint
    subprocess.run(["umount", str(mountpoint)], check=True)
    mountpoint.rmdir()


def test_on_a_full_disk_first_use_says_no_space_left_and_where(tiny_disk):
    result = concord(tiny_disk / "home", "board", "list")

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"concord: no space left on the device holding {tiny_disk}/home/pg18: the embedded PostgreSQL "
        "could not create its data directory; free some space there, or point CONCORD_HOME at a disk "
        "with room\n"
    )


def test_a_server_that_would_not_start_is_explained_by_postgres_own_complaint(tmp_path):
    """The wheel's transcript of a failed pg_ctl start (as recorded on a path with a space)."""
    server = EmbeddedServer(tmp_path / "pg18")
    failed = subprocess.CalledProcessError(1, ("/x/bin/pg_ctl", "-w", "start"))
    transcript = (
        "Failed postgres command ...\nstderr:\npg_ctl: could not start server\nExamine the log output.\n"
        "Failed to start server.\nShowing contents of postgres server log below:\n"
        'postgres: invalid argument: "sp"\nTry "postgres --help" for more information.\n'
    )

    without_log = server._start_failure(failed, transcript).message
    (tmp_path / "pg18").mkdir()
    (tmp_path / "pg18" / "log").write_text("...")
    with_log = server._start_failure(failed, transcript).message

    expected = f'the embedded PostgreSQL in {tmp_path}/pg18 could not start: invalid argument: "sp"'
    assert (without_log, with_log) == (expected, f"{expected}; see {tmp_path}/pg18/log")
