"""The ``noobwire`` command line: ``bench``, ``inspect`` and ``schema``, each in a module of its own."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from noobwire import __version__
from noobwire.cli import bench as cli_bench
from noobwire.cli import inspect as cli_inspect
from noobwire.cli import schema as cli_schema

__all__ = ["main"]

_DESCRIPTION = "noobwire: a fast MessagePack codec for the messages of noob's ZeroMQ runner."

_EPILOG = """\
examples:
  noobwire bench --quick
  noobwire inspect --hex frame.hex
  noobwire schema EventMsg

'noobwire COMMAND --help' explains a command.
"""


_COMMANDS = (
    ("bench", cli_bench, "time the built-in workloads with every codec"),
    ("inspect", cli_inspect, "decode a captured frame, or the frames of one message, and print the message"),
    ("schema", cli_schema, "print the JSON schemas of the messages"),
)
"""Each command: its name, its module (``DESCRIPTION``, ``EXAMPLES``, ``add_arguments``, ``run``) and
the line ``noobwire --help`` gives it."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="noobwire",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"noobwire {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    for name, command, summary in _COMMANDS:
        sub = commands.add_parser(
            name,
            help=summary,
            description=command.DESCRIPTION,
            epilog=command.EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
        sub.set_defaults(run=command.run, refuse=sub.error)  # refuse: stop on arguments run() finds bad
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)  # each command's own run()
        sys.stdout.flush()  # here, where a closed pipe is caught, rather than at exit
        return status
    except BrokenPipeError:  # the reader stopped reading (noobwire schema | head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail
        return 0


if __name__ == "__main__":
    sys.exit(main())
