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
from noobwire.bench.workloads import WORKLOADS, make_workload, workload_generation
from noobwire.generations import REFERENCE

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
    keys = list(codec_keys) if codec_keys is not None else None
    outcome = BenchRun()
    for workload in workloads if workloads is not None else WORKLOADS:
        generation = workload_generation(workload)
        codecs, missing = available_codecs(keys, generation)
        for key, reason in missing.items():
            # (a codec missing for every workload is said once, by its key alone)
            label = key if generation is REFERENCE else f"{key} on {workload}"
            if label not in outcome.missing_codecs and key not in outcome.missing_codecs:
                outcome.missing_codecs[label] = reason
                if progress:
                    progress.note(f"not measured: {label}: {reason}")
        selected: list[BenchCodec] = list(codecs.values())
        if not selected:
            continue
        try:
            msg = make_workload(workload)
        except ImportError as exc:  # the array workloads need numpy, noob's need that noob
            reason = f"needs {exc.name} ({exc})" if isinstance(exc, ModuleNotFoundError) else str(exc)
            outcome.skipped_workloads[workload] = reason
            if progress:
                progress.note(f"{workload} skipped: {reason}")
            continue
        if progress:
            progress.start(workload, len(selected), repeats)
        outcome.results.extend(
            measure(workload, msg, selected, seconds, repeats, progress.repeat if progress else None)
        )
        if progress:
            progress.finish()
    return outcome
