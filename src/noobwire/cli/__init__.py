"""The ``noobwire`` command line: ``bench``, ``inspect`` and ``schema``, each in a module of its own."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

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


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that names the options it does not know before any other error: argparse
    would first say that an argument is missing (``noobwire --bogus``: that a command is required)."""

    given: Sequence[str] = ()
    """The words given to this parser (``_parse`` sets them): where its unknown options are looked for."""
    commands: Mapping[str, argparse.ArgumentParser]
    """Of the top-level parser: each command's parser, by name."""

    def error(self, message: str) -> NoReturn:
        """Exit with status 2 and this parser's usage, naming first the options it does not know."""
        unknown = self.unknown_options()
        if unknown and not message.startswith("unrecognized arguments"):
            message = f"unrecognized arguments: {' '.join(unknown)}"
        super().error(message)

    def unknown_options(self) -> list[str]:
        """The words of :attr:`given` that look like options (``-x``, ``--name``, ``--name=value``) and
        are none of this parser's, nor a unique abbreviation of one."""
        known = list(self._option_string_actions)  # every option string of this parser
        unknown = []
        for word in self.given:
            if word == "--":
                break
            name = word.partition("=")[0]
            if not name.startswith("-") or len(name) < 2 or _NEGATIVE_NUMBER.match(name):
                continue
            if name not in known and not (name.startswith("--") and any(o.startswith(name) for o in known)):
                unknown.append(word)
        return unknown


_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
"""A word that argparse reads as a negative number, not as an option (as its own matcher does)."""


def _parser() -> _Parser:
    parser = _Parser(
        prog="noobwire",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"noobwire {__version__}")
    # Not required=True: argparse would then say that a command is required before it parses what
    # follows; _parse() reports a missing command once nothing else is wrong.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
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
    parser.commands = commands.choices
    return parser


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments, or an exit with status 2 and the usage of the parser they were given to: options it
    does not know are named first (by the command's own parser when they follow the command), and a
    missing command is reported only when nothing else is wrong."""
    parser = _parser()
    given = list(sys.argv[1:] if argv is None else argv)
    # noobwire's own options take no values, so its words end at the first that is no option.
    command_at = next((at for at, word in enumerate(given) if not word.startswith("-")), len(given))
    parser.given = given[:command_at]
    named = parser.commands.get(given[command_at]) if command_at < len(given) else None
    if isinstance(named, _Parser):
        named.given = given[command_at + 1 :]
    args, unknown = parser.parse_known_args(given)
    if unknown:
        ours = parser.unknown_options()
        refuse = parser.error if ours or args.command is None else args.refuse
        refuse(f"unrecognized arguments: {' '.join(ours or unknown)}")
    if args.command is None:
        parser.error("the following arguments are required: COMMAND")
    if isinstance(named, _Parser):
        named.given = ()  # parsed: what run() refuses later is said as it is
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parse(argv)
    try:
        status: int = args.run(args)  # each command's own run()
        sys.stdout.flush()  # here, where a closed pipe is caught, rather than at exit
        return status
    except BrokenPipeError:  # the reader stopped reading (noobwire schema | head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush cannot fail
        return 0


if __name__ == "__main__":
    sys.exit(main())
