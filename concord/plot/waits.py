"""Where the time went, as a picture: one stacked horizontal bar per cell, its segments the shares
of worker-time (`concord.race.waits`), under the figure's small multiples.

The biggest keys over all cells get a segment and a legend entry of their own; the rest is
"other". Colours go by kind, so a glance reads the bar: reds for heavyweight locks, purples
for LWLocks, blues for I/O, green for CPU, greys for the client.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from concord.race.waits.profile import group_of
from concord.reports.cells import SHORT_ISOLATION

#: Segments named in the legend; the rest is summed into "other".
KEYS = 8
ROW_INCHES = 0.42
PALETTES = {
    "lock": ["#b2182b", "#d6604d", "#f4a582", "#e7298a"],
    "lwlock": ["#762a83", "#9970ab", "#c2a5cf"],
    "io": ["#2166ac", "#4393c3", "#92c5de"],
    "cpu": ["#1b7837"],
    "client": ["#636363", "#bdbdbd", "#969696"],
    "no session": ["#f0f0f0"],
    "other": ["#dfc27d", "#bf812d", "#8c510a"],
}


def waits_cells(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in document.get("cells", []) if (c.get("waits") or {}).get("profile")]


def panel_inches(document: dict[str, Any]) -> float:
    """Height the panel needs (0 when no cell has a profile)."""
    cells = waits_cells(document)
    return 0.0 if not cells else 1.6 + ROW_INCHES * len(cells)


def segment_keys(cells: list[dict[str, Any]]) -> list[str]:
    """The keys drawn as their own segments: the biggest over all cells, kinds kept together."""
    total: Counter[str] = Counter()
    for cell in cells:
        total.update(cell["waits"]["profile"])
    keys = [k for k, _ in total.most_common(KEYS)]
    order = list(PALETTES)
    return sorted(keys, key=lambda k: (order.index(group_of(k)), -total[k]))


def colours(keys: list[str]) -> dict[str, str]:
    used: Counter[str] = Counter()
    out = {}
    for key in keys:
        group = group_of(key)
        palette = PALETTES[group]
        out[key] = palette[used[group] % len(palette)]
        used[group] += 1
    return out


def draw_waits(subfigure, document: dict[str, Any]) -> None:
    """Draw the bars into ``subfigure`` (a matplotlib SubFigure)."""
    cells = waits_cells(document)
    keys = segment_keys(cells)
    colour = colours(keys)
    ax = subfigure.subplots()
    labels = [_label(c) for c in cells]
    rows = list(range(len(cells)))
    left = [0.0] * len(cells)
    for key in [*keys, "other"]:
        shares = [_share(c, key, keys) for c in cells]
        if not any(shares):
            continue
        ax.barh(rows, shares, left=left, color=colour.get(key, "#dfc27d"), label=key, height=0.7)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    ax.set_yticks(rows, labels)
    ax.invert_yaxis()  # cells top to bottom in the document's order
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(_percent())
    ax.set_xlabel("share of worker-time (samples of pg_stat_activity)")
    ax.set_title("where the time went", fontsize=13, fontweight="bold")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)


def _share(cell: dict[str, Any], key: str, keys: list[str]) -> float:
    profile = cell["waits"]["profile"]
    if key == "other":
        return sum(v for k, v in profile.items() if k not in keys)
    return profile.get(key, 0.0)


def _label(cell: dict[str, Any]) -> str:
    iso = SHORT_ISOLATION.get(cell["isolation"], cell["isolation"])
    return f"{cell['strategy']} · {iso} · {cell['workers']}w"


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0)
