"""Latency histograms (concord.race.latency): percentiles against exact ones, exact merging."""

from __future__ import annotations

import pickle

import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import example, given
from hypothesis import strategies as st

from concord.race.latency import (
    HIGHEST_US,
    LAYOUT,
    LOWEST_US,
    PERCENTILES,
    SIGNIFICANT_DIGITS,
    Latencies,
    _index_of,
)

#: 3 significant digits: a bucket is at most 1/1024 of the values it holds wide.
PRECISION = 1 / 1000

microseconds = st.integers(min_value=0, max_value=HIGHEST_US)


def exact_percentiles_us(samples: list[int]) -> dict[str, int]:
    """Nearest rank over the raw samples: the smallest with at least p% at or below it."""
    ordered = sorted(samples)
    found = {name: ordered[max(1, -(-len(ordered) * num // den)) - 1] for name, num, den in PERCENTILES}
    return {**found, "max": ordered[-1]}


def recorded(samples_us: list[int], gave_up: list[int] = ()) -> Latencies:
    latencies = Latencies()
    for us in samples_us:
        latencies.record(us / 1_000_000)
    for us in gave_up:
        latencies.record_gave_up(us / 1_000_000)
    return latencies


@given(st.lists(microseconds, min_size=1, max_size=2000))
def test_hdr_percentiles_are_the_exact_ones_within_the_configured_precision(samples):
    found = recorded(samples).percentiles_ms()
    for name, exact in exact_percentiles_us(samples).items():
        reported = round(found[name] * 1000)
        # a bucket is reported as its highest value: never below the exact one, at most 0.1% above
        assert exact <= reported <= exact + exact * PRECISION, name
        if exact < 2048:  # one microsecond per bucket down there
            assert reported == exact, name
    assert found["samples"] == len(samples) and found["gave_up"] == 0


@given(st.lists(st.integers(min_value=100, max_value=10_000_000), min_size=1, max_size=300))
def test_the_percentiles_are_ordered(samples):
    found = recorded(samples).percentiles_ms()
    ordered = [found[name] for name, _, _ in PERCENTILES] + [found["max"]]
    assert ordered == sorted(ordered)


@given(st.lists(st.lists(microseconds, max_size=200), min_size=1, max_size=6))
def test_merging_workers_histograms_is_exactly_one_histogram_of_every_sample(per_worker):
    # each worker's histogram crosses a process boundary (pickled, i.e. encoded) before the merge
    workers = [pickle.loads(pickle.dumps(recorded(samples))) for samples in per_worker]
    merged = Latencies.merged(workers)
    everything = recorded([us for samples in per_worker for us in samples])
    assert list(merged.histogram.counts) == list(everything.histogram.counts)
    assert merged.percentiles_ms() == everything.percentiles_ms()
    assert merged.encode() == everything.encode()


def test_operations_that_gave_up_are_samples_and_are_counted_apart():
    latencies = recorded([1_000] * 98, gave_up=[400_000, 900_000])
    found = latencies.percentiles_ms()
    assert (found["samples"], found["gave_up"]) == (100, 2)
    # the slowest operations are the ones that gave up: leaving them out would hide them
    assert (found["p50"], found["p99"], found["max"]) == (1.0, 400.127, 900.095)
    assert Latencies.merged([latencies, latencies]).percentiles_ms()["gave_up"] == 4


def test_a_cell_without_operations_reports_no_percentiles():
    assert Latencies().percentiles_ms() == {
        "p50": None, "p90": None, "p95": None, "p99": None, "p999": None, "max": None,
        "samples": 0, "gave_up": 0,
    }  # fmt: skip


def test_an_operation_longer_than_the_range_is_counted_at_its_top():
    found = recorded([5_000, 2 * HIGHEST_US]).percentiles_ms()
    assert found["samples"] == 2 and found["max"] == HIGHEST_US / 1000


def test_memory_and_the_encoded_form_stay_bounded_however_many_operations():
    small, large = recorded([1_500]), recorded([1_000 + i % 50_000 for i in range(200_000)])
    assert len(small.histogram.counts) == len(large.histogram.counts)
    assert len(pickle.dumps(large)) < 64_000  # the raw samples were 200,000 floats


def test_a_cells_document_round_trips_and_refuses_another_layout():
    latencies = recorded([1_000, 2_000, 3_000], gave_up=[50_000])
    document = latencies.document()
    assert {k: document[k] for k in LAYOUT} == LAYOUT == {
        "unit": "us", "lowest": 1, "highest": 3_600_000_000, "significant_digits": 3,
    }  # fmt: skip
    assert Latencies.from_document(document).percentiles_ms() == latencies.percentiles_ms()
    with pytest.raises(ValueError, match="another layout"):
        Latencies.from_document({**document, "significant_digits": 2})


@given(microseconds)
@example(0)
@example(2047)  # the last value `record` counts on its first-bucket shortcut
@example(2048)
@example(HIGHEST_US)
def test_a_value_lands_in_the_counter_hdrhistogram_itself_would_use(us):
    reference = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    assert _index_of(us) == reference._counts_index_for(us)
    latencies = Latencies()
    latencies.record(us / 1_000_000)
    reference.record_value(us)
    assert latencies.encode() == reference.encode().decode("ascii")
