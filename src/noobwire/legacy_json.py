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
from pydantic_core import PydanticSerializationError, to_jsonable_python

from noobwire.errors import DecodeError, EncodeError, SchemaError, describe
from noobwire.generations import REFERENCE, as_generation
from noobwire.layout import Generation
from noobwire.messages import PICKLE_PREFIX, MessageAdapter
from noobwire.options import DEFAULT_OPTIONS, Options
from noobwire.records import construct_message

__all__ = ["decode_json", "encode_json"]


def encode_json(msg: Any) -> bytes:
    """The reference JSON bytes of ``msg`` (``model_dump_json()`` as UTF-8).

    Refuses (:class:`EncodeError`, with its path) a ``str`` that begins with ``pck__`` where the
    reference's reader unpickles such strings (an event's value, anywhere in it, and an error
    message's value): in the reference JSON a pickle and such a str cannot be told apart, and a peer
    with pickle on would unpickle the str."""
    try:
        text: bytes = msg.model_dump_json().encode("utf-8")
    except PydanticSerializationError as exc:
        raise EncodeError(f"the reference JSON codec cannot write this message: {exc}") from exc
    except Exception as exc:  # what a field's own type raised while it was written
        raise EncodeError(
            f"the reference JSON codec cannot write this message ({type(exc).__name__}: {exc})"
        ) from exc
    if _QUOTED_PICKLE_PREFIX in text:  # (its own pickles start so too: then look at the strs)
        _refuse_pickle_lookalikes(msg)
    return text


_QUOTED_PICKLE_PREFIX = f'"{PICKLE_PREFIX}'.encode()


def _refuse_pickle_lookalikes(msg: Any) -> None:
    """Raise :class:`EncodeError` at the first str beginning with ``pck__`` that the JSON holds as a
    str where the reference's reader would unpickle it."""
    value = msg.value
    if str(msg.type_) == "event" and isinstance(value, list):
        for index, event in enumerate(value):
            if isinstance(event, str) and event.startswith(PICKLE_PREFIX):
                raise _lookalike_error(f"value[{index}]")
            if isinstance(event, dict) and "value" in event:
                _refuse_in(event["value"], f"value[{index}]['value']")
    elif str(msg.type_) == "error":
        _refuse_in(value, "value")


def _refuse_in(value: Any, path: str) -> None:
    """Refuse a pck__ str in ``value`` (one the reference writes as JSON: one it pickles whole instead
    holds its strs inside the pickle, where they stay strs)."""
    found = _lookalike_path(value, path, 0)
    if found is None:
        return
    try:
        to_jsonable_python(value)
    except Exception:  # written as one pickle, which holds the str as a str
        return
    raise _lookalike_error(found)


_MAX_LOOKALIKE_DEPTH = 1024


def _lookalike_path(value: Any, path: str, depth: int) -> str | None:
    """The path of the first str beginning with ``pck__`` in ``value`` (a str, or one in its lists,
    tuples, sets and dict values), or None."""
    if isinstance(value, str):
        return path if value.startswith(PICKLE_PREFIX) else None
    if depth >= _MAX_LOOKALIKE_DEPTH:
        return None
    if isinstance(value, dict):
        items: Any = ((f"{path}[{describe(key)}]", item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    elif isinstance(value, set | frozenset):
        items = ((f"{path} (an element)", item) for item in value)
    else:
        return None
    for item_path, item in items:
        found = _lookalike_path(item, item_path, depth + 1)
        if found is not None:
            return found
    return None


def _lookalike_error(path: str) -> EncodeError:
    return EncodeError(
        f"a str that begins with {PICKLE_PREFIX!r}: the reference JSON cannot tell it from a pickle, and "
        "a reader with pickle on would unpickle it (send it as noobwire MessagePack, or change it)",
        path,
    )


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
