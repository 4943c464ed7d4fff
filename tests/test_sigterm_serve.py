"""SIGTERM ends every long command the way Ctrl-C does, and reports itself with exit 143.

A race's SIGTERM is tested in `test_race_stopping`, explain's in `test_explain_limits`; here the
commands whose own loop catches the interrupt: uvicorn shuts ``serve`` down gracefully on either
signal and then swallows the KeyboardInterrupt, so concord has to remember which signal came.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request

from test_race_support import sessions_left, url_text

CONCORD = [sys.executable, "-m", "concord"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_sigterm_shuts_serve_down_gracefully_and_exits_143(database_url, tmp_path):
    port = free_port()
    command = [*CONCORD, "serve", "--port", str(port), "--database-url", url_text(database_url)]
    with (tmp_path / "stderr").open("w") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not serving(port):
            assert process.poll() is None, (tmp_path / "stderr").read_text()
            assert time.monotonic() < deadline, "concord serve never answered"
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    finally:
        process.kill()
        process.wait()
    lines = (tmp_path / "stderr").read_text().splitlines()
    assert (process.returncode, lines[-1]) == (143, "concord: terminated"), lines
    assert "INFO:     Application shutdown complete." in lines  # uvicorn's graceful path, not a kill
    assert sessions_left(database_url) == 0
