"""Properties of the race engine's pure parts, over generated inputs (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concord.errors import InvalidInput
from concord.locking import RetryPolicy
from concord.race import Experiment
from concord.race.experiment import parse_workers, split_list

SCENARIOS = ["counter", "assign", "wip-limit", "claim-queue", "transfer"]


@given(st.lists(st.integers(min_value=-5, max_value=500), min_size=1, max_size=5))
def test_worker_counts_below_one_are_refused_and_the_rest_make_one_cell_each(counts):
    experiment = Experiment(scenario="counter", strategies=("pessimistic",), workers=tuple(counts))
    if min(counts) < 1:
        with pytest.raises(InvalidInput, match="workers must be at least 1"):
            experiment.validated()
    else:
        assert [c.workers for c in experiment.validated().cells()] == counts


@given(
    st.sampled_from(SCENARIOS), st.sets(st.sampled_from(["read committed", "rr", "SERIALIZABLE"]), min_size=1)
)
def test_the_matrix_is_every_strategy_times_every_isolation_level(scenario, isolations):
    experiment = Experiment(
        scenario=scenario, strategies=("all",), isolations=tuple(sorted(isolations))
    ).validated()
    cells = experiment.cells()
    assert len(cells) == len(experiment.strategies) * len(isolations)
    assert "skip_locked" not in experiment.strategies or scenario == "claim-queue"


@given(st.lists(st.integers(min_value=1, max_value=999), min_size=1, max_size=6))
def test_comma_separated_worker_counts_parse_back_to_the_numbers(counts):
    assert parse_workers(" , ".join(map(str, counts))) == tuple(counts)
    assert split_list(",".join(map(str, counts)) + ",") == [str(c) for c in counts]


@given(st.integers(min_value=1, max_value=40), st.floats(min_value=1e-4, max_value=0.1))
def test_backoff_never_exceeds_its_cap(attempt, base):
    policy = RetryPolicy(max_tries=50, base_delay_s=base, max_delay_s=0.2)
    assert 0 <= policy.delay(attempt) <= min(0.2, base * 2 ** (attempt - 1))
