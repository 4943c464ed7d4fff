"""`python -m concord` as a real process: the entry point, exit codes and streams end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def concord(*args: str, database_url, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("CONCORD_DATABASE_URL", "CONCORD_DEBUG")}
    url = database_url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "-m", "concord", *args, "--database-url", url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **env},
        check=False,
    )


def test_python_m_concord_creates_a_board_and_refuses_an_unknown_one(database_url):
    created = concord("board", "create", "Roadmap", "--json", database_url=database_url)
    missing = concord("board", "show", "99", database_url=database_url)

    assert (created.returncode, created.stderr) == (0, "")
    assert json.loads(created.stdout)["id"] == 1
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == "concord: board 99 not found: `concord board list` shows the boards\n"
