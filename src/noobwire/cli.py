"""The ``noobwire`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence

from noobwire import cli_inspect, cli_schema, codec
from noobwire.bench.codecs import CODEC_KEYS
from noobwire.bench.pipeline_nodes import PIPELINES
from noobwire.workloads import WORKLOADS

__all__ = ["main"]

_DESCRIPTION = """\
noobwire: a fast MessagePack codec for the messages of noob's ZeroMQ runner.

commands:
  bench   encode and decode the built-in workloads with noobwire, the reference JSON codec,
          msgspec, msgpack-python and pickle, and print time per message, frame sizes and ratios
          example: noobwire bench --quick
          with --pipeline: run noob pipelines with noob alone, with noobwire, with noob's
          SynchronousRunner and raw pyzmq (needs noob)   example: noobwire bench --pipeline --quick
  inspect decode one captured frame (noobwire MessagePack or the reference's JSON) and print it
          example: noobwire inspect --hex frame.hex
  schema  print the JSON schemas of the messages
          example: noobwire schema EventMsg

'noobwire COMMAND --help' explains a command.
"""

QUICK_SECONDS = 1.2
"""Seconds per workload of ``--quick`` (about ten seconds for all six)."""
QUICK_REPEATS = 5
DEFAULT_SECONDS = 3.0
DEFAULT_REPEATS = 7
PIPELINE_QUICK_SECONDS = 0.5
"""Seconds per runner and round of ``--pipeline --quick`` (under a minute for the three pipelines)."""
PIPELINE_QUICK_ROUNDS = 3
PIPELINE_SECONDS = 2.0
PIPELINE_ROUNDS = 5


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="noobwire", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bench = commands.add_parser(
        "bench",
        help="time the built-in workloads with every codec",
        description="Encode and decode each workload with every codec, interleaved in one process, and "
        "print the median time per message, the frame size, and each codec's time divided by that of "
        "noobwire's fastest backend (e.g. 12.5 = 12.5 times as long as noobwire). Progress goes to "
        "stderr, the tables to stdout.",
    )
    bench.add_argument(
        "--quick",
        action="store_true",
        help=f"a short run: {QUICK_SECONDS} s and {QUICK_REPEATS} repeats per workload (about 10 s in all)",
    )
    bench.add_argument(
        "--workload",
        action="extend",
        type=_name_list(list(WORKLOADS), "workload"),
        metavar="NAME[,NAME]",
        help=f"workloads to run (repeatable or comma-separated; default: all of {', '.join(WORKLOADS)})",
    )
    bench.add_argument(
        "--codec",
        action="extend",
        type=_name_list(CODEC_KEYS, "codec"),
        metavar="NAME[,NAME]",
        help="codecs to measure (repeatable or comma-separated; default: every one installed, of "
        f"{', '.join(CODEC_KEYS)})",
    )
    bench.add_argument(
        "--seconds",
        type=_positive(float),
        help=f"time budget per workload (default {DEFAULT_SECONDS:g}, or {QUICK_SECONDS:g} with --quick)",
    )
    bench.add_argument(
        "--repeats",
        type=_positive(int),
        help=f"interleaved repeats per workload; the medians are taken over them "
        f"(default {DEFAULT_REPEATS}, or {QUICK_REPEATS} with --quick)",
    )
    bench.add_argument(
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
    bench.add_argument("--json", metavar="FILE", help="also write the raw results (every sample) as JSON")
    bench.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also draw a bar chart (log scale, codecs grouped by workload); needs matplotlib, "
        "pip install 'noobwire[plot]'",
    )
    cli_inspect.add_command(commands)
    cli_schema.add_command(commands)
    return parser


def _bench_pipelines(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from noobwire.bench import pipeline
    from noobwire.bench.progress import Progress

    for option, given in (("--plot", args.plot), ("--codec", args.codec), ("--workload", args.workload)):
        if given:
            parser.error(f"{option} is for the codecs' benchmark; it does not go with --pipeline")
    missing = pipeline.noob_missing()
    if missing:
        print(f"noobwire bench --pipeline: {missing}", file=sys.stderr)
        return 2
    names = list(dict.fromkeys(args.pipeline))
    seconds = args.seconds or (PIPELINE_QUICK_SECONDS if args.quick else PIPELINE_SECONDS)
    rounds = args.repeats or (PIPELINE_QUICK_ROUNDS if args.quick else PIPELINE_ROUNDS)
    print(
        f"noobwire bench --pipeline: {codec.backend} backend; {seconds:g} s x {rounds} rounds per runner",
        file=sys.stderr,
    )
    try:
        results = pipeline.run_pipelines(names, seconds=seconds, rounds=rounds, progress=Progress(len(names)))
    except RuntimeError as exc:
        print(f"noobwire bench --pipeline: {exc}", file=sys.stderr)
        return 1
    print(pipeline.format_pipeline_report(results), end="")
    if args.json:
        settings = {"pipelines": names, "seconds": seconds, "rounds": rounds}
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(pipeline.results_to_json(results, settings), file, indent=1)
            file.write("\n")
        print(f"raw results written to {args.json}", file=sys.stderr)
    return 0


def _bench(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.pipeline:
        return _bench_pipelines(parser, args)
    from noobwire import bench
    from noobwire.bench.plot import plot_results, require_matplotlib
    from noobwire.bench.progress import Progress

    if args.plot:
        try:
            require_matplotlib()
        except ImportError as exc:
            parser.error(f"--plot: {exc}")
    codec_keys = list(dict.fromkeys(args.codec)) if args.codec else None
    if codec_keys:
        _, missing = bench.available_codecs(codec_keys)
        if missing:
            parser.error("; ".join(f"codec {key} is not available: {why}" for key, why in missing.items()))
    workloads = list(dict.fromkeys(args.workload)) if args.workload else list(WORKLOADS)
    seconds = args.seconds or (QUICK_SECONDS if args.quick else DEFAULT_SECONDS)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS)

    progress = Progress(len(workloads))
    print(
        f"noobwire bench: {codec.backend} backend active; {seconds:g} s x {len(workloads)} workloads",
        file=sys.stderr,
    )
    try:
        outcome = bench.run(workloads, codec_keys, seconds=seconds, repeats=repeats, progress=progress)
    except bench.DecodeMismatch as exc:
        print(f"noobwire bench: {exc}", file=sys.stderr)
        return 1
    print(bench.format_report(outcome.results, outcome.not_measured), end="")
    if args.json:
        settings = {"workloads": workloads, "codecs": codec_keys, "seconds": seconds, "repeats": repeats}
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(bench.results_to_json(outcome.results, outcome.not_measured, settings), file, indent=1)
            file.write("\n")
        print(f"raw results written to {args.json}", file=sys.stderr)
    if args.plot and outcome.results:
        plot_results(outcome.results, args.plot)
        print(f"chart written to {args.plot}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "bench":
        return _bench(parser, args)
    try:
        return args.run(args)  # type: ignore[no-any-return]  # the commands of their own modules
    except BrokenPipeError:  # the reader stopped reading (noobwire schema | head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail
        return 0


if __name__ == "__main__":
    sys.exit(main())
