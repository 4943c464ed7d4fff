"""`concord report`: one page with the parameters, settings, verdicts, chart and cells."""

from __future__ import annotations

import base64
import sys

import pytest
from browser import needs_chromium
from cli_runner import run
from test_results_support import a_sweep, document, race_cell, write

from concord.reports.page import Bullets, Heading, Image, Page, Paragraph, Table, markdown, to_html
from concord.reports.report import build_page, verdicts


def test_markdown_links_the_chart_and_writes_tables_with_numbers_right_aligned():
    page = Page(
        "T", [Heading("H"), Paragraph("a | b"), Table(("name", "n"), [("x|y", "1")], frozenset({"n"}))]
    )
    page.blocks.append(Image("t.png", b"\x89PNG", "a chart"))
    assert markdown(page) == "\n".join(
        [
            "# T",
            "",
            "## H",
            "",
            "a | b",
            "",
            "| name | n |",
            "|---|---:|",
            "| x\\|y | 1 |",
            "",
            "![a chart](t.png)",
            "",
        ]
    )


def test_html_embeds_the_chart_as_base64_and_escapes_text():
    page = Page("<T>", [Bullets(["a & b"]), Image("t.png", b"\x89PNG", "chart")])
    html = to_html(page)
    assert "<title>&lt;T&gt;</title>" in html
    assert "<li>a &amp; b</li>" in html
    encoded = base64.b64encode(b"\x89PNG").decode()
    assert f'src="data:image/png;base64,{encoded}"' in html


def test_verdicts_name_the_broken_cells_and_say_whether_the_fastest_lead_is_beyond_the_spread():
    sweep = a_sweep()
    sweep["cells"][1]["violations"] = 12  # none, read committed, 4 workers
    sweep["cells"][1]["verdict"] = "lost 12 updates"
    sweep["cells"][3]["spread"]["throughput"].update(values=[60.0, 70.0, 95.0], max=95.0)  # none, SER, 1
    assert verdicts(sweep) == [
        "none, read committed, 4 workers: lost 12 updates",
        "Highest median without anomalies at 1 worker: none, read committed (100 commits/s, p99 3.0 ms); "
        "the runs of 1 other cell overlap its own, so the lead is within the spread",
        "Highest median without anomalies at 4 workers: none, serializable (280 commits/s, p99 6.0 ms); "
        "ahead of every other cell beyond the spread",
        "Highest median without anomalies at 16 workers: none, read committed "
        "(1,600 commits/s, p99 18.0 ms); ahead of every other cell beyond the spread",
    ]


def test_a_race_document_says_its_lead_may_be_noise():
    race = document(
        [race_cell("none", "read committed", 1, 50.0), race_cell("optimistic", "read committed", 1, 40.0)]
    )
    assert verdicts(race) == [
        "No anomaly in any of the 2 cells.",
        "Highest median without anomalies at 1 worker: none, read committed (50 commits/s, p99 10.0 ms); "
        "single runs, so the lead may be noise",
    ]


def test_the_page_holds_parameters_settings_cells_and_the_command_to_reproduce():
    page = build_page(a_sweep(), charts=False)
    headings = [b.text for b in page.blocks if isinstance(b, Heading)]
    assert headings == ["Verdicts", "Cells", "Parameters", "Database settings", "Reproduce"]
    text = markdown(page)
    assert "| fsync | on |" in text
    assert (
        "| none | read committed | 4 | 1.0 | 400 (390-410) | 1.0 | 6.0 (5.0-7.0) | 100 | 0 | 0 | - | 0 |"
        in text
    )
    assert (
        "```sh\nconcord sweep --scenario counter --strategy none,pessimistic "
        "--isolation 'read committed,serializable' --workers 1,4,16 --executor threads --duration 1 "
        "--repeats 3\n```" in text
    )
    # (max - min) / median is 20 / median here: the middle two of the twelve cells are 20/280 and 20/200.
    assert "Runs of the same cell differed by 9% of the median throughput" in text


def test_the_command_writes_markdown_with_the_chart_beside_it(tmp_path):
    source = write(tmp_path / "results" / "s.json", a_sweep())
    outcome = run("report", "s", "--out", str(tmp_path), "-o", str(tmp_path / "review" / "page.md"))
    assert outcome.exit_code == 0, outcome.stderr
    assert (
        outcome.stdout == f"report: {tmp_path / 'review' / 'page.md'}, {tmp_path / 'review' / 'page.png'}\n"
    )
    assert (
        "![throughput, latency, conflicts and violations against workers](page.png)"
        in (tmp_path / "review" / "page.md").read_text()
    )
    assert (tmp_path / "review" / "page.png").read_bytes().startswith(b"\x89PNG")
    assert source.exists()


def test_the_command_writes_one_html_file_by_default_markdown_next_to_the_result(tmp_path):
    source = write(tmp_path / "s.json", a_sweep())
    html = run("report", str(source), "-o", str(tmp_path / "page.html"))
    assert (html.exit_code, html.stdout) == (0, f"report: {tmp_path / 'page.html'}\n")
    assert "data:image/png;base64," in (tmp_path / "page.html").read_text()
    default = run("report", str(source))
    assert default.stdout == f"report: {tmp_path / 's-report.md'}, {tmp_path / 's-report.png'}\n"


def test_without_matplotlib_the_page_is_written_without_charts_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    source = write(tmp_path / "s.json", a_sweep())
    outcome = run("report", str(source), "-o", str(tmp_path / "page.md"))
    assert (outcome.exit_code, outcome.stdout) == (0, f"report: {tmp_path / 'page.md'}\n")
    assert (
        "No charts: charts need matplotlib: pip install 'concord[plot]'."
        in (tmp_path / "page.md").read_text()
    )


def test_bad_input_is_one_line_with_its_exit_code(tmp_path):
    source = write(tmp_path / "s.json", a_sweep())
    assert run("report", str(source), "-o", str(tmp_path / "page.pdf")).stderr == (
        "concord: cannot write a report as .pdf: use .md or .html\n"
    )
    assert run("report", str(source), "-o", str(tmp_path / "page.pdf")).exit_code == 2
    missing = run("report", str(tmp_path / "nope.json"))
    assert (missing.exit_code, missing.stdout) == (1, "")
    assert missing.stderr.startswith(f"concord: no result {tmp_path / 'nope.json'}: not a file")


# Measured by the browser once the page is laid out: how far the page scrolls sideways, the numeric
# cells whose text breaks over lines, and whether the reproduce command fits its box.
LAYOUT_PROBE = """
<script>
const lines = (node) => {
  const range = document.createRange();
  range.selectNodeContents(node);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
};
const broken = [...document.querySelectorAll("td.num")].filter(
  (td) => [...td.childNodes].some((node) => lines(node) > 1)).map((td) => td.textContent);
const pre = document.querySelector("pre");
document.title = JSON.stringify({
  width: window.innerWidth,
  sideways: document.documentElement.scrollWidth - window.innerWidth,
  numeric_cells: document.querySelectorAll("td.num").length,
  broken: broken,
  command_overflows: pre.scrollWidth - pre.clientWidth,
});
</script>
"""


@needs_chromium
@pytest.mark.parametrize("width", [1280, 800])
def test_the_html_page_never_breaks_a_number_nor_scrolls_sideways_in_a_browser(repo_root, tmp_path, width):
    import html
    import json
    import re

    from browser import browse

    sweep = json.loads((repo_root / "results/examples/counter-sweep.json").read_text())
    sweep["parameters"]["strategies"] += [f"strategy-number-{n}" for n in range(30)]  # a long command
    text = to_html(build_page(sweep, charts=False)).replace("</body>", LAYOUT_PROBE + "</body>")
    page = tmp_path / "report.html"
    page.write_text(text)
    dom = browse(page.as_uri(), "--dump-dom", f"--window-size={width},900")
    layout = json.loads(html.unescape(re.search(r"<title>(.*)</title>", dom)[1]))
    assert layout["width"] == width
    assert layout["numeric_cells"] > 0
    assert layout["broken"] == []
    assert layout["sideways"] <= 0
    assert layout["command_overflows"] <= 0
