"""What ``noobwire bench`` prints and saves: tables of times, sizes and ratios, and the raw results."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from noobwire.bench.timing import Result
from noobwire.bench.workloads import WORKLOADS

__all__ = [
    "baseline",
    "format_ratio",
    "format_report",
    "machine",
    "results_from_json",
    "results_to_json",
    "workload_title",
]


def baseline(rows: Sequence[Result]) -> Result:
    """The row the ratios of one workload divide by: noobwire's fastest backend (least encode + decode
    time), or the fastest codec when no noobwire backend was measured."""
    ours = [row for row in rows if row.noobwire_backend]
    return min(ours or rows, key=lambda row: row.total_us)


def format_ratio(ratio: float) -> str:
    """A ratio with the digits that matter: ``1.23``, ``456``, ``0.0012``."""
    if ratio >= 100:
        return f"{ratio:,.0f}"
    if ratio >= 0.01:
        return f"{ratio:.2f}"
    return f"{ratio:.2g}"


def workload_title(workload: str) -> str:
    """``E4: EventMsg of 4 events: ...``, from the docstring of the workload's builder."""
    build = WORKLOADS.get(workload)
    doc = (build.__doc__ or "").strip().splitlines()[0] if build else ""
    return f"{workload}: {doc.replace('``', '').rstrip('.')}" if doc else workload


def _by_workload(results: Sequence[Result]) -> dict[str, list[Result]]:
    grouped: dict[str, list[Result]] = {}
    for result in results:
        grouped.setdefault(result.workload, []).append(result)
    return grouped


def _name_width(results: Sequence[Result]) -> int:
    """The width of the codec column: the longest name, and two spaces."""
    return max([len("codec"), *(len(row.name) for row in results)]) + 2


def _header(width: int) -> str:
    return (
        f"  {'codec':<{width}}{'encode µs':>12}{'decode µs':>12}{'total µs':>12}{'bytes':>13}"
        f"{'encode x':>10}{'decode x':>10}{'total x':>10}"
    )


def _table(workload: str, rows: Sequence[Result], width: int) -> list[str]:
    base = baseline(rows)
    lines = [workload_title(workload), _header(width)]
    for row in rows:
        lines.append(
            f"  {row.name:<{width}}{row.encode_us:>12,.2f}{row.decode_us:>12,.2f}{row.total_us:>12,.2f}"
            f"{row.size:>13,}{format_ratio(row.encode_us / base.encode_us):>10}"
            f"{format_ratio(row.decode_us / base.decode_us):>10}"
            f"{format_ratio(row.total_us / base.total_us):>10}"
        )
    return [*lines, ""]


def _summary(grouped: Mapping[str, Sequence[Result]], width: int) -> list[str]:
    names: dict[str, str] = {}
    ratios: dict[tuple[str, str], float] = {}
    for workload, rows in grouped.items():
        base = baseline(rows)
        for row in rows:
            # One row per codec; its name may differ by generation ("reference JSON / noob 1003.x JSON").
            known = names.get(row.codec)
            if known is None:
                names[row.codec] = row.name
            elif row.name not in known.split(" / "):
                names[row.codec] = f"{known} / {row.name}"
            ratios[workload, row.codec] = row.total_us / base.total_us
    width = max(width, *map(len, names.values()))
    lines = [
        "Total time (encode + decode) ÷ that of noobwire's fastest backend, per workload",
        f"  {'codec':<{width}}" + "".join(f"{workload:>9}" for workload in grouped),
    ]
    for key, name in names.items():
        cells = [ratios.get((workload, key)) for workload in grouped]
        lines.append(
            f"  {name:<{width}}"
            + "".join(f"{'-' if cell is None else format_ratio(cell):>9}" for cell in cells)
        )
    return [*lines, ""]


def format_report(results: Sequence[Result], missing: Mapping[str, str] | None = None) -> str:
    """One table per workload (median time per message, frame size, ratios), then one table of the
    total-time ratios of every codec on every workload, then the codecs that were not measured.

    A ratio is a codec's time divided by that of noobwire's fastest backend on the same workload
    (measured in the same run): 3.5 means 3.5 times as long as noobwire, 0.5 half as long.
    """
    grouped = _by_workload(results)
    lines: list[str] = []
    if grouped:
        base_names = sorted({baseline(rows).name for rows in grouped.values()})
        lines += [
            "Median time per message; x = time ÷ the same time of "
            + " / ".join(base_names)
            + " (noobwire's fastest backend here; above 1 is slower).",
            "",
        ]
    width = _name_width(results)
    for workload, rows in grouped.items():
        lines += _table(workload, rows, width)
    if len(grouped) > 1:
        lines += _summary(grouped, width)
    for key, reason in (missing or {}).items():
        lines.append(f"not measured: {key}: {reason}")
    return "\n".join(lines).rstrip("\n") + "\n"


def results_to_json(
    results: Sequence[Result],
    missing: Mapping[str, str],
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """The raw results of a run, for ``--json``: every sample, the settings and the machine."""
    from noobwire import __version__, codec

    rows = []
    for rows_of_workload in _by_workload(results).values():
        base = baseline(rows_of_workload)
        for row in rows_of_workload:
            record = asdict(row)
            record["total_us"] = row.total_us
            record["baseline"] = base.codec
            record["ratio_total"] = row.total_us / base.total_us
            rows.append(record)
    return {
        "noobwire": __version__,
        "active_backend": codec.backend,
        **machine(),
        "settings": dict(settings),
        "missing": dict(missing),
        "results": rows,
    }


_RESULT_FIELDS = frozenset(field.name for field in fields(Result))


def results_from_json(record: Mapping[str, Any]) -> list[Result]:
    """The results of a run as :func:`results_to_json` saved them (what ``--json`` writes), in order."""
    rows = []
    for row in record["results"]:
        given = {key: value for key, value in row.items() if key in _RESULT_FIELDS}
        for samples in ("encode_samples_us", "decode_samples_us"):
            given[samples] = tuple(given.get(samples, ()))
        rows.append(Result(**given))
    return rows


def machine() -> dict[str, Any]:
    """Where and when a run is made: the date (UTC), the Python, the platform, the processor and its
    cores, and the noob installed (None if none): what a saved run says of itself."""
    from importlib import metadata

    try:
        noob: str | None = metadata.version("noob")
    except metadata.PackageNotFoundError:
        noob = None
    return {
        "recorded": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": _processor(),
        "cores": os.cpu_count(),
        "noob": noob,
    }


def _processor() -> str:
    """The processor's model name (from /proc/cpuinfo on Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
