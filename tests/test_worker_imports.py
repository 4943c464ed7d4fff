"""Worker processes stay lean: what a child unpickles and runs loads no SQLAlchemy, ORM or CLI.

The process executor's memory bound (50 workers within 1.5 GiB resident) depends on it: each
child's private memory is what it imports after the fork. These tests unpickle real worker jobs,
for every scenario under every strategy it accepts, in a fresh interpreter that has imported only
what the fork server preloads, and list what got imported.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest

from concord.locking import STRATEGIES, get_strategy
from concord.locking.retry import RetryPolicy
from concord.race.executors.processes import PRELOAD
from concord.race.scenarios import PROGRAMS, SCENARIOS
from concord.race.scenarios.program import Fixture
from concord.race.worker import WorkerJob

HEAVY = ("sqlalchemy", "concord.models", "concord.cli", "typer", "rich", "alembic")
#: Of the scenarios' modules, a worker loads the packages and their worker's halves only.
WORKER_SIDE = {
    "concord.race.scenarios",
    "concord.race.scenarios.program",
    "concord.race.scenarios.user.tx",
    *PROGRAMS,
    *(program.rpartition(".")[0] for program in PROGRAMS),
}
#: hdrhistogram declares these as requirements; a worker (which records latencies with it) must not
#: load them.
HDRHISTOGRAM_DECLARED = ("pbr", "setuptools", "pkg_resources")

CHILD = """
import importlib, json, pickle, sys
for name in {preload!r}:
    if name != "__main__":
        importlib.import_module(name)
preloaded = set(sys.modules)
jobs = pickle.loads(sys.stdin.buffer.read())
for job in jobs:  # what a worker does with its program before it touches the server
    job.program.operation(job.worker, 0)
print(json.dumps({{"preloaded": sorted(preloaded), "after": sorted(set(sys.modules) - preloaded)}}))
"""


def every_job() -> list[WorkerJob]:
    fixture = Fixture(
        board_id=1,
        workers=2,
        lists={"backlog": 2, "a": 3, "b": 4},
        tasks=[10, 11, 12, 13],
        users=[20, 21],
        extra={"targets": [5, 6]},
    )
    jobs = []
    for scenario_type in SCENARIOS.values():
        scenario = scenario_type()
        for name in STRATEGIES:
            strategy = get_strategy(name)
            if scenario.refusal(strategy) is None:
                program = scenario.program(strategy, fixture)
                job = WorkerJob(0, "host=", "read committed", program, RetryPolicy(), frozenset(), 1, 10, 0)
                jobs.append(job)
    return jobs


def test_a_worker_process_unpickles_and_starts_every_program_without_sqlalchemy_or_the_cli():
    jobs = every_job()
    assert len(jobs) >= 5 * 4  # every scenario, most strategies
    child = subprocess.run(
        [sys.executable, "-c", CHILD.format(preload=PRELOAD)],
        input=pickle.dumps(jobs),
        capture_output=True,
        check=True,
    )
    modules = json.loads(child.stdout)
    loaded = modules["preloaded"] + modules["after"]
    assert [m for m in loaded if m.startswith(HEAVY + HDRHISTOGRAM_DECLARED)] == []
    coordinator = [m for m in loaded if m.startswith("concord.race.scenarios") and m not in WORKER_SIDE]
    assert coordinator == []
    assert "hdrh.histogram" in loaded  # the latency histogram is there, preloaded
    # The fork server's preload is complete: unpickling and starting a program imports nothing.
    assert modules["after"] == []


@pytest.mark.parametrize(
    ("module", "heavy"),
    [
        ("concord", (*HEAVY, "concord.race.scenarios")),
        ("concord.race", (*HEAVY, "concord.race.scenarios")),
        ("concord.locking", HEAVY),
        ("concord.race.scenarios", (*HEAVY, "concord.race.scenarios.")),  # no scenario, no half
        ("concord.race.scenarios.user", (*HEAVY, "concord.race.scenarios.user.")),
    ],
)
def test_importing_a_package_loads_none_of_its_heavy_modules(module, heavy):
    code = f"import sys, {module}; print([m for m in sys.modules if m.startswith({heavy!r})])"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "[]"


def test_the_registry_names_each_built_in_scenario_by_its_own_name_and_finds_its_program():
    assert {name: cls.name for name, cls in SCENARIOS.items()} == {name: name for name in SCENARIOS}
    assert len(PROGRAMS) == len(SCENARIOS) + 1  # and the user scenario's
    for name in SCENARIOS:
        package = SCENARIOS[name].__module__.rpartition(".")[0]
        assert f"{package}.program" in PROGRAMS
