"""The chart of ``noobwire bench --plot``: time per message of every codec, grouped by workload.

Needs matplotlib (``pip install 'noobwire[plot]'``). It draws on a ``Figure`` of its own, without
pyplot, so it needs no display and changes no global state.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from noobwire.bench.codecs import CODEC_KEYS
from noobwire.bench.report import baseline, format_ratio
from noobwire.bench.timing import Result

__all__ = ["CHART_FORMATS", "chart_format", "plot_results", "require_matplotlib", "time_unit"]

MISSING_MATPLOTLIB = "the chart needs matplotlib: pip install 'noobwire[plot]' (or pip install matplotlib)"

CHART_FORMATS = ("png", "svg", "pdf")
"""The formats a chart is written in, chosen by the file name's ending."""

_LABEL_SIZE = 10  # points: the ratio on each bar
_LABEL_ROOM = 0.13  # of the axes' height, above the tallest bar, for its rotated ratio label
_LEGEND_ENTRY_WIDTH = 2.5  # inches: a legend entry as long as "noobwire frames (compiled)"
_UNITS = (("s", 1e6), ("ms", 1e3), ("µs", 1.0), ("ns", 1e-3))


def require_matplotlib() -> None:
    """Raise ``ImportError`` saying what to install when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(MISSING_MATPLOTLIB) from exc


def chart_format(path: str | os.PathLike[str]) -> str:
    """The format of a chart written to ``path``, from its ending; ``ValueError`` for any other ending."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in CHART_FORMATS:
        raise ValueError(
            f"cannot tell a chart's format from {os.fspath(path)!r}: "
            f"the file name must end in {', '.join('.' + name for name in CHART_FORMATS)}"
        )
    return suffix


def time_unit(smallest_us: float) -> tuple[str, float]:
    """The one unit of a chart's time axis (and how many µs it holds): the largest in which the
    smallest time is at least 1."""
    for unit, scale in _UNITS:
        if smallest_us >= scale:
            return unit, scale
    return _UNITS[-1]


def _tick_label(value: float, _position: object = None) -> str:
    """A plain number: ``0.2``, ``5``, ``1,000``, ``100,000``."""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _tick_steps(decades: float) -> tuple[float, ...]:
    """Where the ticks of a log axis spanning ``decades`` go in each decade: enough to read, not crowded."""
    if decades > 3:
        return (1.0,)
    if decades > 1.2:
        return (1.0, 2.0, 5.0)
    return (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)


def _limits(low: float, high: float) -> tuple[float, float]:
    """The axis' range on a log scale: the shortest bar still shows, and the tallest has room above it
    for its ratio label (``_LABEL_ROOM`` of the height); the bars fill the rest."""
    bottom = low / 10 ** max(0.1, 0.15 * math.log10(high / low))
    decades = math.log10(high / bottom)
    room = decades * _LABEL_ROOM / (1 - _LABEL_ROOM)
    return bottom, high * 10**room


def plot_results(results: Sequence[Result], path: str | os.PathLike[str], title: str | None = None) -> None:
    """Save a bar chart of ``results`` to ``path``, as PNG, SVG or PDF by its ending (see
    :func:`chart_format`).

    One group of bars per workload, one bar per codec: its encode + decode time per message on a
    log scale in one time unit, labelled with its ratio to noobwire's fastest backend on that workload.
    """
    file_format = chart_format(path)
    require_matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    workloads = list(dict.fromkeys(result.workload for result in results))
    codecs = list(dict.fromkeys(result.name for result in results))
    keys = {result.name: result.codec for result in results}
    by_key = {(result.workload, result.name): result for result in results}
    bases = {
        workload: baseline([row for row in results if row.workload == workload]) for workload in workloads
    }
    unit, scale = time_unit(min(result.total_us for result in results))
    width = 0.8 / max(3, len(codecs))  # of one group's slot; a group of one or two bars is not stretched
    start = -width * len(codecs) / 2

    figure_width = max(6.0, 1.3 + 1.6 * len(workloads))  # inches
    figure = Figure(figsize=(figure_width, 5.5), layout="constrained")
    axes: Any = figure.add_subplot()
    for index, name in enumerate(codecs):
        xs, heights, labels = [], [], []
        for group, workload in enumerate(workloads):
            result = by_key.get((workload, name))
            if result is None:
                continue
            xs.append(group + start + width * (index + 0.5))
            heights.append(result.total_us / scale)
            labels.append(format_ratio(result.total_us / bases[workload].total_us))
        # A codec keeps its colour from chart to chart, whichever codecs are missing.
        colour = CODEC_KEYS.index(keys[name]) if keys[name] in CODEC_KEYS else len(CODEC_KEYS) + index
        bars = axes.bar(xs, heights, width * 0.92, label=name, color=f"C{colour % 10}")
        axes.bar_label(bars, labels=labels, rotation=90, padding=3, fontsize=_LABEL_SIZE)

    axes.set_yscale("log")
    axes.set_ylim(*_limits(min(_heights(results, scale)), max(_heights(results, scale))))
    decades = math.log10(axes.get_ylim()[1] / axes.get_ylim()[0])
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=_tick_steps(decades)))
    axes.yaxis.set_major_formatter(FuncFormatter(_tick_label))
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.tick_params(labelsize=10)
    axes.set_xticks(range(len(workloads)), workloads, fontsize=11)
    axes.set_xlim(-0.5, len(workloads) - 0.5)
    axes.set_ylabel(f"encode + decode per message, {unit} (log scale)", fontsize=11)
    base_names = " / ".join(sorted({base.name for base in bases.values()}))
    axes.set_xlabel(f"workload; on each bar: its time ÷ that of {base_names}", fontsize=10)
    axes.grid(axis="y", which="major", alpha=0.3)
    axes.set_axisbelow(True)
    columns = max(1, min(len(codecs), int(figure_width / _LEGEND_ENTRY_WIDTH)))
    figure.legend(loc="outside lower center", ncols=columns, fontsize=10, frameon=False)
    figure.suptitle(title or "noobwire bench: median time per message")
    figure.savefig(path, format=file_format, dpi=90)


def _heights(results: Sequence[Result], scale: float) -> list[float]:
    """Each result's encode + decode time in the chart's unit."""
    return [result.total_us / scale for result in results]
