"""The legacy JSON codec, kept to talk to unmodified noob processes.

``encode_json`` writes exactly the bytes the reference's ``Message.to_bytes()`` writes, and
``decode_json`` reads them as the reference's ``Message.from_bytes()`` does (pydantic's lax
validation through the discriminated union on ``type``), with one difference: every failure is a
:class:`noobwire.DecodeError` (a ``ValueError``), the pydantic ``ValidationError`` as its cause.
The JSON of a noob generation is read by that noob's own ``MessageAdapter``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from noobwire.errors import DecodeError, SchemaError
from noobwire.generations import REFERENCE, as_generation
from noobwire.layout import Generation
from noobwire.messages import PICKLE_PREFIX, MessageAdapter, encode_json
from noobwire.options import DEFAULT_OPTIONS, Options
from noobwire.records import construct_message

__all__ = ["decode_json", "encode_json"]


def decode_json(
    buf: Any, schema: Generation | dict[str, type] = REFERENCE, options: Options = DEFAULT_OPTIONS
) -> Any:
    """Read a legacy JSON frame (bytes or a buffer) as the classes of ``schema`` read it.

    For the reference generation noobwire's mirror validates it, and with classes other than the
    mirror's the validated fields are then put in the class for the message's type; with pickle off in
    ``options``, a ``pck__`` value (the reference's pickles) is refused instead of unpickled. For a noob
    generation, noob's own ``MessageAdapter`` reads it.
    """
    generation = as_generation(schema)
    if not generation.json_mirror:
        return _decode_with_module(buf, generation, options)
    try:
        msg = MessageAdapter.validate_json(bytes(buf), context={"allow_pickle": options.allow_pickle})
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise DecodeError(f"invalid JSON frame: {errors[0]['msg']}") from exc
        refused = _refusal(errors)
        if refused is not None:
            raise DecodeError(f"invalid JSON frame: {refused}") from exc
        raise SchemaError(f"JSON frame breaks the schema: {exc}") from exc
    except Exception as exc:  # a validator of the reference (unpickling a pck__ value) failed
        raise DecodeError(f"invalid JSON frame ({type(exc).__name__}: {exc})") from exc
    if generation is REFERENCE:
        return msg
    type_name = str(msg.type_)
    return construct_message(generation.classes[type_name], type_name, msg.node_id, msg.timestamp, msg.value)


def _decode_with_module(buf: Any, generation: Generation, options: Options) -> Any:
    """Read a noob generation's JSON frame with its own ``MessageAdapter`` (which unpickles ``pck__``
    values: with pickle off such a frame is refused before it is validated)."""
    data = bytes(buf)
    if not options.allow_pickle and _holds_pickle(data):
        raise DecodeError(f"invalid JSON frame: refused a pickled ({PICKLE_PREFIX}) value: pickle is off")
    adapter = generation.bound_module.MessageAdapter
    try:
        return adapter.validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise DecodeError(f"invalid JSON frame: {errors[0]['msg']}") from exc
        raise SchemaError(f"JSON frame breaks the schema: {exc}") from exc
    except Exception as exc:  # a validator of noob's (unpickling a pck__ value) failed
        raise DecodeError(f"invalid JSON frame ({type(exc).__name__}: {exc})") from exc


def _refusal(errors: list[Any]) -> str | None:
    """What the pickle policy refused in a JSON frame, if that is why it failed validation."""
    for error in errors:
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, DecodeError):
            return cause.reason
    return None


def _holds_pickle(data: bytes) -> bool:
    """Whether a JSON frame holds a str that begins with ``pck__`` anywhere, escapes decoded (a frame
    that ``json`` cannot read is refused here too: the check must not be skipped)."""
    try:
        stack = [json.loads(data)]
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"invalid JSON frame ({type(exc).__name__})") from None
    while stack:
        item = stack.pop()
        if type(item) is str:
            if item.startswith(PICKLE_PREFIX):
                return True
        elif type(item) is list:
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item.values())
    return False
