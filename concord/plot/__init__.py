"""Charts of a result document (race or sweep): small multiples (matplotlib, in the
``plot`` extra) and a compact throughput chart for the terminal (Rich, always available).

from concord.plot import draw, save_figure, figure_png, terminal_chart
"""

from __future__ import annotations

from concord.plot.figure import draw, figure_png, save_figure
from concord.plot.series import Series, series_of
from concord.plot.terminal import terminal_chart

__all__ = ["Series", "draw", "figure_png", "save_figure", "series_of", "terminal_chart"]
