"""``noobwire schema``: print the JSON schemas of the messages, as pydantic prints the reference's."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from noobwire.messages import MESSAGE_CLASSES, Message

__all__ = ["DESCRIPTION", "EXAMPLES", "add_arguments", "message_schemas", "run"]

_MODELS: dict[str, type[Message]] = {
    "Message": Message,
    **{cls.__name__: cls for cls in MESSAGE_CLASSES.values()},
}

EXAMPLES = """\
examples:
  noobwire schema                 all twelve schemas, one JSON object keyed by title
  noobwire schema EventMsg        one model's schema (by class name, or by message type: event)
"""


DESCRIPTION = """\
Print the JSON schema of each message model (Message and the eleven *Msg classes) exactly as
pydantic prints the reference's with Model.model_json_schema().
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's arguments on its ``parser``."""
    parser.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        help=f"one model: {', '.join(_MODELS)} (or a message type such as 'event')",
    )


def message_schemas() -> dict[str, dict[str, Any]]:
    """The JSON schema of each message model, keyed by its title, in alphabetical order."""
    return {name: _MODELS[name].model_json_schema() for name in sorted(_MODELS)}


def run(args: argparse.Namespace) -> int:
    """Carry out ``noobwire schema``; returns the exit status."""
    if args.model is None:
        print(json.dumps(message_schemas(), indent=2))
        return 0
    model = _MODELS.get(args.model) or MESSAGE_CLASSES.get(args.model)
    if model is None:
        print(
            f"noobwire schema: no model {args.model!r}; one of {', '.join(_MODELS)} "
            f"or a message type ({', '.join(MESSAGE_CLASSES)})",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(model.model_json_schema(), indent=2))
    return 0
