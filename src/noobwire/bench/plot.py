"""The chart of ``noobwire bench --plot``: time per message of every codec, grouped by workload.

Needs matplotlib (``pip install 'noobwire[plot]'``). It draws on a ``Figure`` of its own, without
pyplot, so it needs no display and changes no global state.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from noobwire.bench.codecs import CODEC_KEYS
from noobwire.bench.report import baseline, format_ratio
from noobwire.bench.timing import Result

__all__ = ["plot_results", "require_matplotlib"]

MISSING_MATPLOTLIB = "the chart needs matplotlib: pip install 'noobwire[plot]' (or pip install matplotlib)"


def require_matplotlib() -> None:
    """Raise ``ImportError`` saying what to install when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(MISSING_MATPLOTLIB) from exc


def _duration(microseconds: float, _position: object = None) -> str:
    """A tick label: 100 ns, 10 µs, 1 ms, 2 s."""
    for unit, scale in (("s", 1e6), ("ms", 1e3), ("µs", 1.0)):
        if microseconds >= scale:
            return f"{microseconds / scale:g} {unit}"
    return f"{microseconds * 1e3:g} ns"


def plot_results(results: Sequence[Result], path: str | os.PathLike[str], title: str | None = None) -> None:
    """Save a bar chart of ``results`` to ``path`` (its suffix picks the format: .png, .svg, .pdf).

    One group of bars per workload, one bar per codec: its encode + decode time per message on a
    log scale, labelled with its ratio to noobwire's fastest backend on that workload.
    """
    require_matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    workloads = list(dict.fromkeys(result.workload for result in results))
    codecs = list(dict.fromkeys(result.name for result in results))
    keys = {result.name: result.codec for result in results}
    by_key = {(result.workload, result.name): result for result in results}
    width = 0.8 / max(1, len(codecs))

    figure = Figure(figsize=(11, 5.5), layout="constrained")
    axes: Any = figure.add_subplot()
    for index, name in enumerate(codecs):
        xs, heights, labels = [], [], []
        for group, workload in enumerate(workloads):
            result = by_key.get((workload, name))
            if result is None:
                continue
            base = baseline([row for row in results if row.workload == workload])
            xs.append(group - 0.4 + width * (index + 0.5))
            heights.append(result.total_us)
            labels.append(format_ratio(result.total_us / base.total_us))
        # A codec keeps its colour from chart to chart, whichever codecs are missing.
        colour = CODEC_KEYS.index(keys[name]) if keys[name] in CODEC_KEYS else len(CODEC_KEYS) + index
        bars = axes.bar(xs, heights, width * 0.92, label=name, color=f"C{colour % 10}")
        axes.bar_label(bars, labels=labels, rotation=90, padding=2, fontsize=7)
    axes.set_yscale("log")
    axes.set_xticks(range(len(workloads)), workloads)
    axes.yaxis.set_major_formatter(FuncFormatter(_duration))
    axes.set_ylabel("encode + decode per message (log scale)")
    axes.set_xlabel("workload (label on each bar: time ÷ noobwire's fastest backend)")
    axes.margins(y=0.15)
    axes.set_ylim(top=axes.get_ylim()[1] * 4)  # room for the labels above the tallest bars
    axes.grid(axis="y", which="major", alpha=0.3)
    axes.set_axisbelow(True)
    axes.legend(ncols=min(len(codecs), 7), loc="upper left", fontsize=9, frameon=False)
    axes.set_title(title or "noobwire bench: encode + decode time per message, median of interleaved runs")
    figure.savefig(path, dpi=90)
