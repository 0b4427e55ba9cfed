"""``noobwire bench``: time the built-in workloads with every codec, print the tables, save the chart."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from noobwire import codec
from noobwire.bench.codecs import CODEC_KEYS
from noobwire.bench.pipeline_nodes import PIPELINES
from noobwire.bench.plot import chart_format
from noobwire.bench.workloads import WORKLOADS

__all__ = [
    "DESCRIPTION",
    "EXAMPLES",
    "NOOB_IMPORT_NOTICES",
    "add_arguments",
    "chart_path",
    "noob_notices_first",
    "run",
]

QUICK_SECONDS = 1.2
"""Seconds per workload of ``--quick`` (about ten seconds for all eight)."""
QUICK_REPEATS = 5
DEFAULT_SECONDS = 3.0
DEFAULT_REPEATS = 7
PIPELINE_QUICK_SECONDS = 0.5
"""Seconds per runner and round of ``--pipeline --quick`` (under a minute for the three pipelines)."""
PIPELINE_QUICK_ROUNDS = 3
PIPELINE_QUICK_TURNS = 2
"""Turns per round of ``--pipeline --quick``: turns of a sixteenth of its half second would time little
more than the start of each ``run(n)``."""
PIPELINE_SECONDS = 2.0
PIPELINE_ROUNDS = 5
PIPELINE_TURNS = 8

NOOB_IMPORT_NOTICES = ("XDG_RUNTIME_DIR is not set",)
"""The starts of the warnings noob gives as it is imported (its ``RuntimeDirWarning`` where
``XDG_RUNTIME_DIR`` is unset), which every process that imports noob would give again."""

EXAMPLES = """\
examples:
  noobwire bench --quick                       every workload and codec, about 10 s
  noobwire bench --workload E4,P --codec compiled,msgspec
  noobwire bench --json raw.json --plot chart.svg
  noobwire bench --pipeline --quick            noob pipelines with and without noobwire (needs noob)
"""


def _name_list(choices: Sequence[str], what: str) -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated list of names, each one of ``choices``."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, unknown or [text]))}; choose from {', '.join(choices)}"
            )
        return names

    return parse


def _positive(kind: Callable[[str], float | int]) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0: {text!r}")
        return value

    return parse


def chart_path(text: str) -> Path:
    """An argparse type: a chart's file name, whose ending (``.png``, ``.svg``, ``.pdf``) is its format."""
    try:
        chart_format(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return Path(text)


DESCRIPTION = """\
Encode and decode each workload with every codec, interleaved in one process, and
print the median time per message, the frame size, and each codec's time divided by that of
noobwire's fastest backend (e.g. 12.5 = 12.5 times as long as noobwire). Each noobwire row
names the backend it ran on; with NOOBWIRE_PURE=1 only the pure backend runs. Progress goes
to stderr, the tables to stdout.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's arguments on its ``parser``."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a short run: {QUICK_SECONDS} s and {QUICK_REPEATS} repeats per workload (about 10 s in all)",
    )
    parser.add_argument(
        "--workload",
        action="extend",
        type=_name_list(list(WORKLOADS), "workload"),
        metavar="NAME[,NAME]",
        help=f"workloads to run (repeatable or comma-separated; default: all of {', '.join(WORKLOADS)})",
    )
    parser.add_argument(
        "--codec",
        action="extend",
        type=_name_list(CODEC_KEYS, "codec"),
        metavar="NAME[,NAME]",
        help="codecs to measure (repeatable or comma-separated; default: every one installed, of "
        f"{', '.join(CODEC_KEYS)})",
    )
    parser.add_argument(
        "--seconds",
        type=_positive(float),
        help=f"time budget per workload (default {DEFAULT_SECONDS:g}, or {QUICK_SECONDS:g} with --quick)",
    )
    parser.add_argument(
        "--repeats",
        type=_positive(int),
        help=f"interleaved repeats per workload; the medians are taken over them "
        f"(default {DEFAULT_REPEATS}, or {QUICK_REPEATS} with --quick)",
    )
    parser.add_argument(
        "--pipeline",
        nargs="?",
        const=list(PIPELINES),
        type=_name_list(PIPELINES, "pipeline"),
        metavar="NAME[,NAME]",
        help="instead of the codecs, run noob pipelines (default: all of "
        f"{', '.join(PIPELINES)}) with noob's ZMQRunner alone, with noobwire hooked into it, with its "
        "SynchronousRunner and with raw pyzmq, taking turns; --seconds is per runner and round, "
        f"--repeats the rounds (default {PIPELINE_SECONDS:g} s x {PIPELINE_ROUNDS}, or "
        f"{PIPELINE_QUICK_SECONDS:g} s x {PIPELINE_QUICK_ROUNDS} with --quick); needs noob",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the raw results (every sample) as JSON")
    parser.add_argument(
        "--plot",
        metavar="FILE",
        type=chart_path,
        help="also draw a bar chart (log scale, codecs grouped by workload) as PNG, SVG or PDF, by the file "
        "name's ending (chart.png, chart.svg, chart.pdf); needs matplotlib: pip install 'noobwire[plot]'",
    )


def run(args: argparse.Namespace) -> int:
    """Carry out ``noobwire bench``; returns the exit status (``args.refuse`` stops on bad arguments)."""
    if args.pipeline:
        return _run_pipelines(args)
    from noobwire import bench
    from noobwire.bench.plot import plot_results, require_matplotlib
    from noobwire.bench.progress import Progress

    if args.plot:
        try:
            require_matplotlib()
        except ImportError as exc:
            args.refuse(f"--plot: {exc}")
    codec_keys = list(dict.fromkeys(args.codec)) if args.codec else None
    if codec_keys:
        _, missing = bench.available_codecs(codec_keys)
        if missing:
            args.refuse("; ".join(f"codec {key} is not available: {why}" for key, why in missing.items()))
    workloads = list(dict.fromkeys(args.workload)) if args.workload else list(WORKLOADS)
    seconds, repeats = _budget(args, (QUICK_SECONDS, QUICK_REPEATS), (DEFAULT_SECONDS, DEFAULT_REPEATS))

    print(
        f"noobwire bench: {codec.backend} backend active; {seconds:g} s x {len(workloads)} workloads",
        file=sys.stderr,
    )
    try:
        outcome = bench.run(
            workloads, codec_keys, seconds=seconds, repeats=repeats, progress=Progress(len(workloads))
        )
    except bench.DecodeMismatch as exc:
        print(f"noobwire bench: {exc}", file=sys.stderr)
        return 1
    print(bench.format_report(outcome.results, outcome.not_measured), end="")
    if args.json:
        settings = {"workloads": workloads, "codecs": codec_keys, "seconds": seconds, "repeats": repeats}
        _save_json(args.json, bench.results_to_json(outcome.results, outcome.not_measured, settings))
    if args.plot and outcome.results:
        plot_results(outcome.results, args.plot)
        print(f"chart written to {args.plot} ({chart_format(args.plot).upper()})", file=sys.stderr)
    return 0


def _run_pipelines(args: argparse.Namespace) -> int:
    """Carry out ``noobwire bench --pipeline``: noob's runners with and without noobwire."""
    from noobwire.bench import pipeline
    from noobwire.bench.progress import Progress

    for option, given in (("--plot", args.plot), ("--codec", args.codec), ("--workload", args.workload)):
        if given:
            args.refuse(f"{option} is for the codecs' benchmark; it does not go with --pipeline")
    missing = pipeline.noob_missing()
    if missing:
        print(f"noobwire bench --pipeline: {missing}", file=sys.stderr)
        return 2
    names = list(dict.fromkeys(args.pipeline))
    seconds, rounds = _budget(
        args, (PIPELINE_QUICK_SECONDS, PIPELINE_QUICK_ROUNDS), (PIPELINE_SECONDS, PIPELINE_ROUNDS)
    )
    with noob_notices_first():
        print(
            f"noobwire bench --pipeline: {codec.backend} backend; {seconds:g} s x {rounds} rounds per runner",
            file=sys.stderr,
        )
        try:
            results = pipeline.run_pipelines(
                names,
                seconds=seconds,
                rounds=rounds,
                progress=Progress(len(names)),
                turns=PIPELINE_QUICK_TURNS if args.quick else PIPELINE_TURNS,
            )
        except RuntimeError as exc:
            print(f"noobwire bench --pipeline: {exc}", file=sys.stderr)
            return 1
    print(pipeline.format_pipeline_report(results), end="")
    if args.json:
        settings = {"pipelines": names, "seconds": seconds, "rounds": rounds}
        _save_json(args.json, pipeline.results_to_json(results, settings))
    return 0


@contextlib.contextmanager
def noob_notices_first() -> Iterator[None]:
    """Show what noob warns as it is imported once, before the progress display, never in its lines.

    Imports noob's message module now (if noob is installed), so that its import-time warnings
    (:data:`NOOB_IMPORT_NOTICES`) come before the header; then, until the block ends, the same warnings
    are ignored, in this process and in the processes it starts (through ``PYTHONWARNINGS``, which a
    spawned interpreter reads as it starts, and the filters a forked one inherits): each process of a
    pipeline run would otherwise print them again in the middle of a progress line. (The codecs'
    benchmark shows none of them: its noob workloads import noob with warnings off.)"""
    with contextlib.suppress(ImportError):
        importlib.import_module("noob.network.message")
    previous = os.environ.get("PYTHONWARNINGS")
    ignored = [f"ignore:{notice}" for notice in NOOB_IMPORT_NOTICES]
    os.environ["PYTHONWARNINGS"] = ",".join([previous, *ignored] if previous else ignored)
    try:
        with warnings.catch_warnings():
            for notice in NOOB_IMPORT_NOTICES:
                warnings.filterwarnings("ignore", message=notice)
            yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = previous


def _budget(args: argparse.Namespace, quick: tuple[float, int], full: tuple[float, int]) -> tuple[float, int]:
    """The seconds and the rounds of a run: as given, else ``--quick``'s or the full run's."""
    seconds, rounds = quick if args.quick else full
    return args.seconds or seconds, args.repeats or rounds


def _save_json(path: str, results: Any) -> None:
    with open(path, "w", encoding="utf-8") as file:
        json.dump(results, file, indent=1)
        file.write("\n")
    print(f"raw results written to {path}", file=sys.stderr)
