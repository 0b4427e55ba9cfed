"""The ``noobwire`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from noobwire import cli_inspect, cli_schema, codec
from noobwire.workloads import WORKLOADS

__all__ = ["main"]

_DESCRIPTION = """\
noobwire: a fast MessagePack codec for the messages of noob's ZeroMQ runner.

commands:
  bench   encode and decode the built-in workloads with noobwire and the reference JSON codec
          and print time per message, frame sizes and ratios
          example: noobwire bench --quick
  inspect decode one captured frame (noobwire MessagePack or the reference's JSON) and print it
          example: noobwire inspect --hex frame.hex
  schema  print the JSON schemas of the messages
          example: noobwire schema EventMsg

'noobwire COMMAND --help' explains a command.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="noobwire", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bench = commands.add_parser(
        "bench",
        help="time the built-in workloads",
        description="Encode and decode each workload with every codec, interleaved in one process, "
        "and print the median time per message, the frame size and the ratio of each codec to "
        "noobwire's fastest backend (e.g. 12.5 = 12.5 times slower).",
    )
    bench.add_argument("--quick", action="store_true", help="a short run: at most half a second per workload")
    bench.add_argument(
        "--workload",
        action="append",
        choices=list(WORKLOADS),
        help="a workload to run (repeatable; default: all)",
    )
    bench.add_argument(
        "--seconds",
        type=float,
        help="time budget per workload (default 2, or 0.5 with --quick)",
    )
    cli_inspect.add_command(commands)
    cli_schema.add_command(commands)
    return parser


def _bench(args: argparse.Namespace) -> int:
    from noobwire import bench

    seconds = args.seconds if args.seconds is not None else (0.5 if args.quick else 2.0)
    print(f"noobwire {codec.backend} backend active", file=sys.stderr)
    results = bench.run(
        args.workload,
        seconds=seconds,
        progress=lambda what: print(f"  measuring {what} ...", file=sys.stderr, flush=True),
    )
    print(bench.format_table(results))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "bench":
        return _bench(args)
    try:
        return args.run(args)  # type: ignore[no-any-return]  # the commands of their own modules
    except BrokenPipeError:  # the reader stopped reading (noobwire schema | head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail
        return 0


if __name__ == "__main__":
    sys.exit(main())
