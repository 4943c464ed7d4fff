"""Start-up time and worker memory of `concord race --workers 50 --duration 5`, per executor.

    python benchmarks/startup_memory.py [executor ...]

Runs the command as a child process on the (warm) embedded server, measures its wall time, and
samples every 0.2 s, with psutil, the resident memory of the whole process tree: the command
itself plus, for `processes`, the fork server and its worker children. Reports the peak of the
sum of RSS and of PSS (RSS with shared copy-on-write pages divided between the processes sharing
them: what the machine really spends), over the whole tree and over the 50 worker processes
alone (what the issue bounds: 1.5 GiB). Each peak is taken on its own.
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


def tree_memory(root: psutil.Process) -> dict[str, int]:
    """Processes, sum of RSS and of PSS over root and its descendants, and over the workers alone.

    Workers are the fork server's children (``processes``); for the in-process executors there
    are none, and the whole tree is the one command.
    """
    out = dict.fromkeys(("processes", "rss", "pss", "workers", "worker_rss", "worker_pss"), 0)
    for proc in [root, *root.children(recursive=True)]:
        try:
            info = proc.memory_full_info()
            worker = "forkserver" in " ".join(proc.parent().cmdline()) if proc != root else False
        except (psutil.NoSuchProcess, psutil.AccessDenied, AttributeError):
            continue
        pss = getattr(info, "pss", info.rss)
        out["processes"] += 1
        out["rss"] += info.rss
        out["pss"] += pss
        if worker:
            out["workers"] += 1
            out["worker_rss"] += info.rss
            out["worker_pss"] += pss
    return out


def measure(executor: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        command = [CONCORD, "race", "-s", "counter", "--strategy", "pessimistic", "--workers", "50",
                   "--duration", "5", "--executor", executor, "--json", "--out", out]  # fmt: skip
        started = time.monotonic()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        root = psutil.Process(child.pid)
        peak = tree_memory(root)
        while child.poll() is None:
            sample = tree_memory(root)
            peak = {key: max(peak[key], sample[key]) for key in peak}
            time.sleep(0.2)
        wall = time.monotonic() - started
    return {
        "executor": executor,
        "exit": child.returncode,
        "wall_s": round(wall, 2),
        "peak_processes": peak["processes"],
        "peak_rss_mib": round(peak["rss"] / MIB),
        "peak_pss_mib": round(peak["pss"] / MIB),
        "workers": peak["workers"],
        "workers_rss_mib": round(peak["worker_rss"] / MIB),
        "workers_pss_mib": round(peak["worker_pss"] / MIB),
    }


def main() -> None:
    for executor in sys.argv[1:] or ["threads", "processes", "asyncio"]:
        print(measure(executor), flush=True)


if __name__ == "__main__":
    main()
