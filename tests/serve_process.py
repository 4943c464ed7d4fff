"""`concord serve` as a real subprocess on a test's database, on a free loopback port."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
from sqlalchemy import URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(database_url: URL, log: Path) -> Iterator[str]:
    """Run `concord serve` until the block ends; yield its base URL once /health answers."""
    port = free_port()
    url = database_url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "concord", "serve", "--port", str(port), "--database-url", url]
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(process, base, log)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(process: subprocess.Popen, base: str, log: Path) -> None:
    # uvicorn says nothing machine-readable when it is ready: poll its health route.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"concord serve exited: {log.read_text()}"
        try:
            if httpx2.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"concord serve did not answer /health within 60 s: {log.read_text()}")
