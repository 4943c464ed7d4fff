"""Start-up time and worker memory of `concord race --workers 50 --duration 5`, per executor.

    python benchmarks/startup_memory.py [executor ...]

Runs the command as a child process on the (warm) embedded server, measures its wall time, and
samples every 0.2 s, with psutil, the resident memory of the whole process tree: the command
itself plus, for `processes`, the fork server and its worker children. Reports the peak of the
sum of RSS (what the issue bounds: 1.5 GiB for 50 process workers) and of PSS (RSS with shared
copy-on-write pages divided between the processes sharing them, closer to what the machine
really spends).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

CONCORD = str(Path(sys.executable).with_name("concord"))
MIB = 1024 * 1024


def tree_memory(root: psutil.Process) -> tuple[int, int, int]:
    """(processes, sum of RSS, sum of PSS) over root and its descendants."""
    count = rss = pss = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            info = proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        count, rss, pss = count + 1, rss + info.rss, pss + getattr(info, "pss", info.rss)
    return count, rss, pss


def measure(executor: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        command = [CONCORD, "race", "-s", "counter", "--strategy", "pessimistic", "--workers", "50",
                   "--duration", "5", "--executor", executor, "--json", "--out", out]  # fmt: skip
        started = time.monotonic()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        root = psutil.Process(child.pid)
        peak = (0, 0, 0)
        while child.poll() is None:
            sample = tree_memory(root)
            peak = max(peak, sample, key=lambda s: s[1])
            time.sleep(0.2)
        wall = time.monotonic() - started
    return {
        "executor": executor,
        "exit": child.returncode,
        "wall_s": round(wall, 2),
        "peak_processes": peak[0],
        "peak_rss_mib": round(peak[1] / MIB),
        "peak_pss_mib": round(peak[2] / MIB),
    }


def main() -> None:
    for executor in sys.argv[1:] or ["threads", "processes", "asyncio"]:
        print(measure(executor), flush=True)


if __name__ == "__main__":
    main()
