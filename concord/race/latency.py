"""Operation latencies as HDR histograms: bounded memory, exact merging, compact transport.

What a latency covers: one operation, from the start of its first attempt to its end, retries
and the backoff pauses between them included. An operation ends when an attempt commits, or when
it gives up after ``max_tries`` conflicting attempts; both are recorded, and the give-ups are also
counted on their own (``gave_up``) so a reader can tell how many of the samples never committed.
Leaving them out would hide the slowest operations of a contended cell.

Each worker records into one `Latencies`: an HdrHistogram (the ``hdrhistogram`` package) of
integer microseconds from 1 µs to 1 hour at 3 significant digits. Its memory is fixed (about
190 KB of counters, however long the run), a value costs well under a microsecond to record, and
two histograms of the same layout add up exactly, bucket by bucket: the coordinator merges its
workers', and the encoded histogram kept per cell (``latency_hdr`` in a results document, the
HdrHistogram V2 compressed form that every HdrHistogram implementation reads) lets cells from
other runs, processes or hosts be merged later with the same result as one run that saw them all.

Percentiles are nearest-rank (the smallest recorded value with at least p% of the samples at or
below it), read from the histogram. A bucket stands for every value it holds and is reported as
its highest one, so a reported percentile is never below the exact one and at most 0.1% above it
(below 2,048 µs a bucket holds one microsecond: exact to the microsecond a sample was rounded to).

A racing worker imports this module: the standard library and ``hdrh`` only (``hdrh`` imports
ctypes, zlib, base64 and its own C extension; its declared ``pbr``/``setuptools`` are not
imported at run time).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hdrh.histogram import HdrHistogram  # hdrh ships no types: ignore_missing_imports in pyproject

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour: longer operations are recorded as one hour
SIGNIFICANT_DIGITS = 3
#: The percentiles a cell reports: name in ``latency_ms``, then the rank as a fraction (p = n/d).
PERCENTILES: tuple[tuple[str, int, int], ...] = (
    ("p50", 50, 100),
    ("p90", 90, 100),
    ("p95", 95, 100),
    ("p99", 99, 100),
    ("p999", 999, 1000),
)
#: What a results document's ``latency_hdr`` says about its encoded histogram.
LAYOUT = {"unit": "us", "lowest": LOWEST_US, "highest": HIGHEST_US, "significant_digits": SIGNIFICANT_DIGITS}
#: HdrHistogram's counter layout for this range and precision (unit magnitude 0: 1 µs units):
#: 3 significant digits need 2,048 sub-buckets per power of two, half of them per bucket after
#: the first. `_index_of` places a value as every HdrHistogram implementation does.
_HALF_MAGNITUDE = 10
_HALF_COUNT = 1 << _HALF_MAGNITUDE
_SUB_BUCKET_MASK = (1 << (_HALF_MAGNITUDE + 1)) - 1
#: The values of the first bucket, one microsecond per counter, at counters 0 to 2,047.
_FIRST_BUCKET = _SUB_BUCKET_MASK + 1


def _histogram() -> HdrHistogram:
    histogram = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    if (histogram.unit_magnitude, histogram.sub_bucket_half_count_magnitude) != (0, _HALF_MAGNITUDE):
        raise RuntimeError("this hdrhistogram lays its counters out unlike HdrHistogram's format")
    return histogram


def _index_of(us: int) -> int:
    """The counter of ``us`` microseconds (0 <= us <= HIGHEST_US): the bucket is the power of two
    above the value's top 11 bits, the sub-bucket those bits."""
    bucket = (us | _SUB_BUCKET_MASK).bit_length() - (_HALF_MAGNITUDE + 1)
    return ((bucket + 1) << _HALF_MAGNITUDE) + (us >> bucket) - _HALF_COUNT


class Latencies:
    """One worker's (or a merged cell's) operation latencies, and how many of them gave up.

    Recording only adds one to a counter (`record_all`, which a racing worker calls with a batch
    of its latencies: 0.35 µs a value, where hdrh's own ``record_value`` costs 1.9); the
    histogram's total, least and greatest value are brought up to date from the counters before
    it is read, encoded or merged (`_settle`). Pickled (a worker process's report on its way
    back), it travels encoded: a kilobyte or so, where the raw samples were a float object each.
    """

    __slots__ = ("_counts", "gave_up", "histogram")

    def __init__(self, histogram: HdrHistogram | None = None, gave_up: int = 0) -> None:
        self.histogram = histogram if histogram is not None else _histogram()
        self._counts = self.histogram.counts
        self.gave_up = gave_up

    # -- recording (a worker's hot path: one call per operation)

    def record(self, seconds: float) -> None:
        """Record an operation that committed, ``seconds`` (>= 0) after its first attempt started."""
        self.record_all((seconds,))

    def record_all(self, seconds: Iterable[float]) -> None:
        """Record operations that committed, each ``seconds`` (>= 0) after its first attempt
        started: one loop over the counters (a racing worker counts its latencies in batches)."""
        counts = self._counts
        for value in seconds:
            us = int(value * 1_000_000 + 0.5)  # rounded: int() alone cuts 2.9999999999999996 µs to 2
            if us < _FIRST_BUCKET:  # most operations: below 2,048 µs a value is its own counter's index
                counts[us] += 1
                continue
            if us > HIGHEST_US:
                us = HIGHEST_US  # past the range: counted at its top
            bucket = (us | _SUB_BUCKET_MASK).bit_length() - (_HALF_MAGNITUDE + 1)  # `_index_of`, inlined
            counts[((bucket + 1) << _HALF_MAGNITUDE) + (us >> bucket) - _HALF_COUNT] += 1

    def record_gave_up(self, seconds: float) -> None:
        """Record an operation that gave up after max tries, ``seconds`` after it started."""
        self.gave_up += 1
        self.record(seconds)

    def _settle(self) -> HdrHistogram:
        """The histogram with its total, least and greatest value read from its counters."""
        histogram = self.histogram
        counts = histogram.counts[: histogram.counts_len]
        used = [index for index, count in enumerate(counts) if count]
        if used:
            histogram.set_internal_tacking_values(used[0], used[-1], sum(counts))
        return histogram

    # -- transport and merging

    def encode(self) -> str:
        """The histogram in HdrHistogram's V2 compressed, base64 form."""
        return self._settle().encode().decode("ascii")

    @classmethod
    def decode(cls, encoded: str | bytes, gave_up: int = 0) -> Latencies:
        """A full-size histogram holding what ``encoded`` holds (see `encode`)."""
        latencies = cls(gave_up=gave_up)
        if isinstance(encoded, str):
            encoded = encoded.encode("ascii")
        latencies.histogram.add(HdrHistogram.decode(encoded))
        latencies._settle()
        return latencies

    def __reduce__(self) -> tuple[Any, ...]:
        return (Latencies.decode, (self.encode(), self.gave_up))

    @classmethod
    def merged(cls, parts: list[Latencies]) -> Latencies:
        """The sum of ``parts``: exact, as if one histogram had recorded every sample."""
        total = cls()
        for part in parts:
            total.add(part)
        return total

    def add(self, other: Latencies) -> None:
        """Add ``other``'s samples and give-ups to these."""
        if other.count:  # settled: hdrh's add reads the other's total and greatest value
            self.histogram.add(other.histogram)  # counters added in C; ours settle when read
        self.gave_up += other.gave_up

    # -- reading

    @property
    def count(self) -> int:
        """Operations recorded (committed and gave up)."""
        return int(self._settle().get_total_count())

    def percentiles_ms(self) -> dict[str, float | int | None]:
        """A cell's ``latency_ms``: p50, p90, p95, p99, p99.9 (``p999``) and max in milliseconds
        (to the microsecond; None without samples), ``samples`` (operations recorded) and
        ``gave_up`` (how many of those gave up)."""
        found: dict[str, float | int | None] = {name: None for name, _, _ in PERCENTILES}
        found["max"] = None
        total = self.count
        if total:
            found.update(self._read(total))
        found["samples"] = total
        found["gave_up"] = self.gave_up
        return found

    def _read(self, total: int) -> dict[str, float]:
        """One pass over the counters: each percentile's bucket, and the last non-empty one."""
        histogram = self.histogram
        ranks = [(name, max(1, -(-total * num // den))) for name, num, den in PERCENTILES]
        found: dict[str, float] = {}
        seen, last, wanted = 0, 0, 0
        for index, count in enumerate(histogram.counts[: histogram.counts_len]):
            if not count:
                continue
            seen += count
            last = index
            while wanted < len(ranks) and seen >= ranks[wanted][1]:
                found[ranks[wanted][0]] = self._ms_at(index)
                wanted += 1
        found["max"] = self._ms_at(last)
        return found

    def _ms_at(self, index: int) -> float:
        histogram = self.histogram
        top = histogram.get_highest_equivalent_value(histogram.get_value_from_index(index))
        return round(min(top, HIGHEST_US) / 1000, 3)

    def document(self) -> dict[str, Any]:
        """A cell's ``latency_hdr``: the layout, the give-ups and the encoded histogram."""
        return {**LAYOUT, "gave_up": self.gave_up, "encoded": self.encode()}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Latencies:
        """The `Latencies` of a cell's ``latency_hdr`` (see `document`)."""
        layout = {key: document.get(key) for key in LAYOUT}
        if layout != LAYOUT:
            raise ValueError(f"a latency histogram of another layout ({layout}) cannot be merged")
        return cls.decode(document["encoded"], int(document.get("gave_up", 0)))
