"""The one table model of a result's cells: columns said once, drawn as Rich, Markdown, HTML and CSV."""

from __future__ import annotations

import csv
import io
import re

from rich.console import Console
from test_results_support import a_sweep, document, race_cell

from concord.cli.table import rich_table
from concord.race.writers import CSV_FIELDS as RACE_CSV_FIELDS
from concord.reports.cells import RACE_CSV, RACE_TERMINAL, REPORT, SWEEP_CSV, columns
from concord.reports.page import Page, markdown, to_html
from concord.reports.table import CellTable, Column, page_table, write_csv
from concord.sweeps.writers import CSV_FIELDS as SWEEP_CSV_FIELDS

WAITS = {"profile": {"Lock:transactionid": 0.6, "CPU": 0.4}, "groups": {"lock": 0.6, "cpu": 0.4}}


def test_an_optional_column_is_drawn_only_when_some_cell_has_a_value():
    table = CellTable.of(columns("strategy", "top_wait"), [race_cell("none", "read committed", 1, 50.0)])
    assert table.shown().header() == ("strategy",)
    waited = race_cell("pessimistic", "read committed", 1, 40.0) | {"waits": WAITS}
    table = CellTable.of(table.columns, [race_cell("none", "read committed", 1, 50.0), waited])
    assert table.shown().header() == ("strategy", "where the time went")
    assert table.shown().texts() == [("none", "-"), ("pessimistic", "Lock:transactionid 60%")]


def test_csv_keeps_an_optional_column_so_its_header_never_changes():
    out = io.StringIO()
    write_csv(
        out, CellTable.of(columns("strategy", "top_wait"), [race_cell("none", "read committed", 1, 5.0)])
    )
    assert out.getvalue().splitlines() == ["strategy,top_wait", "none,"]


def test_the_same_rows_in_markdown_html_and_csv_agree_on_headers_and_values():
    cells = a_sweep()["cells"][:3]
    table = CellTable.of(REPORT, cells)
    lines = markdown(Page("t", [page_table(table)])).splitlines()
    md_rows = [
        [v.strip() for v in line.strip("|").split(" | ")] for line in lines[2:] if line.startswith("|")
    ]
    header, rule, *rows = md_rows
    aligned = [h for h, r in zip(header, rule[0].strip("|").split("|"), strict=True) if r == "---:"]
    assert set(aligned) == table.right_aligned()
    assert tuple(header) == table.header()
    assert [tuple(r) for r in rows] == table.texts()

    page = to_html(Page("t", [page_table(table)]))
    assert re.findall(r"<th[^>]*>([^<]*)</th>", page) == list(table.header())
    html_cells = [re.sub(r"<[^>]+>", " ", c).split()[0] for c in re.findall(r"<td[^>]*>(.*?)</td>", page)]
    # each HTML cell begins with the median the Markdown writes (its range sits on a line below)
    assert html_cells == [text.split()[0] if text else "" for row in table.texts() for text in row]

    out = io.StringIO()
    write_csv(out, table)
    read = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(read[0]) == [c.key for c in table.columns]
    for column in table.columns:  # the CSV holds the raw value the display formats
        raw = [row[column.key] for row in read]
        assert raw == ["" if v is None else str(v) for v in (column.raw(c) for c in cells)]
    assert [r["throughput"] for r in read] == ["100.0", "400.0", "1600.0"]
    assert [r[3] for r in table.texts()] == ["1.0", "1.0", "1.0"]  # secs, as displayed


def test_a_sweep_cell_shows_its_runs_range_and_a_race_cell_its_one_value():
    (throughput,) = columns("throughput")
    assert throughput.shown(a_sweep()["cells"][1]) == "400 (390-410)"
    assert throughput.shown(race_cell("none", "read committed", 1, 1234.0)) == "1,234"


def test_csv_columns_keep_their_order_new_ones_only_at_the_end():
    assert RACE_CSV_FIELDS[:5] == ("scenario", "strategy", "isolation", "executor", "workers")
    assert RACE_CSV_FIELDS[-4:] == ("p90_ms", "p999_ms", "top_wait", "lock_share")
    assert RACE_CSV_FIELDS.index("verdict") == RACE_CSV_FIELDS.index("max_ms") + 1
    assert tuple(c.key for c in RACE_CSV) == RACE_CSV_FIELDS
    assert SWEEP_CSV_FIELDS[5:8] == ("repeats", "duration_s", "throughput_median")
    assert SWEEP_CSV_FIELDS[-3:] == ("verdict", "top_wait", "lock_share")
    assert tuple(c.key for c in SWEEP_CSV) == SWEEP_CSV_FIELDS


def test_rich_draws_the_displayed_columns_numbered_with_the_verdict_wrapping():
    doc = document([race_cell("none", "read committed", 2, 50.0), race_cell("none", "serializable", 2, 40.0)])
    table = CellTable.of(RACE_TERMINAL, doc["cells"])
    console = Console(width=200, record=True)
    console.print(rich_table(table, title="t", numbered=True))
    header = console.export_text().splitlines()[2].split()
    assert header[:4] == ["#", "strategy", "iso", "workers"]
    assert "where" not in header  # no cell sampled waits
    assert header[-1] == "verdict"


def test_a_column_without_formatter_writes_counts_with_separators_and_nothing_as_a_dash():
    column = Column("n")
    assert [column.shown({"n": v}) for v in (12345, 2.25, None, "x")] == ["12,345", "2.2", "-", "x"]


def test_a_range_the_display_cannot_tell_from_its_median_is_left_out():
    (secs,) = columns("duration_s")
    close = {"duration_s": {"values": [0.301, 0.304], "min": 0.301, "max": 0.304}}
    assert secs.shown({"duration_s": 0.302, "spread": close}) == "0.3"
    apart = {"duration_s": {"values": [0.301, 0.38], "min": 0.301, "max": 0.38}}
    assert secs.shown({"duration_s": 0.302, "spread": apart}) == "0.3 (0.3-0.4)"
