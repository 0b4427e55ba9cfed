"""The benchmark: every codec on every workload, side by side in one process.

``noobwire bench`` and the pytest-benchmark suite in ``benchmarks/`` share this package: the codecs
(:mod:`.codecs`; msgspec's schema in :mod:`.msgspec_codec`, msgpack-python's in :mod:`.msgpack_codec`),
the check that each decodes what it encoded (:mod:`.check`), the interleaved timing (:mod:`.timing`),
the tables and raw results (:mod:`.report`), the chart (:mod:`.plot`), the progress display
(:mod:`.progress`) and the ZeroMQ throughput measurement (:mod:`.throughput`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from noobwire.bench.codecs import CODEC_KEYS, BenchCodec, available_codecs
from noobwire.bench.progress import Progress
from noobwire.bench.report import format_report, results_to_json
from noobwire.bench.timing import DecodeMismatch, Result, measure
from noobwire.workloads import WORKLOADS, make_workload

__all__ = [
    "CODEC_KEYS",
    "BenchCodec",
    "BenchRun",
    "DecodeMismatch",
    "Result",
    "available_codecs",
    "format_report",
    "results_to_json",
    "run",
]


@dataclass
class BenchRun:
    """What one run measured, and what it could not."""

    results: list[Result] = field(default_factory=list)
    missing_codecs: dict[str, str] = field(default_factory=dict)
    """Codecs this installation lacks, and why (key to reason)."""
    skipped_workloads: dict[str, str] = field(default_factory=dict)
    """Workloads that could not be built (the array ones need numpy), and why."""

    @property
    def not_measured(self) -> dict[str, str]:
        """Everything left out, codecs and workloads, with the reason."""
        return {**self.missing_codecs, **self.skipped_workloads}


def run(
    workloads: Iterable[str] | None = None,
    codec_keys: Iterable[str] | None = None,
    seconds: float = 3.0,
    repeats: int = 7,
    progress: Progress | None = None,
) -> BenchRun:
    """Measure the workloads (all by default) with the codecs (all this installation has, by default),
    about ``seconds`` per workload, each time the median of ``repeats`` interleaved batches.

    Raises :class:`DecodeMismatch` if a codec does not decode a workload back into what it encoded.
    """
    codecs, missing = available_codecs(codec_keys)
    outcome = BenchRun(missing_codecs=missing)
    if progress:
        for key, reason in missing.items():
            progress.note(f"not measured: {key}: {reason}")
    selected: list[BenchCodec] = list(codecs.values())
    if not selected:
        return outcome
    for workload in workloads if workloads is not None else WORKLOADS:
        try:
            msg = make_workload(workload)
        except ImportError as exc:  # the array workloads need numpy
            outcome.skipped_workloads[workload] = f"needs numpy ({exc})"
            if progress:
                progress.note(f"{workload} skipped: {outcome.skipped_workloads[workload]}")
            continue
        if progress:
            progress.start(workload, len(selected), repeats)
        outcome.results.extend(
            measure(workload, msg, selected, seconds, repeats, progress.repeat if progress else None)
        )
        if progress:
            progress.finish()
    return outcome
