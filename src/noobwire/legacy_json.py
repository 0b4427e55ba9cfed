"""The reference JSON codec, kept to talk to unmodified noob processes.

``encode_json`` writes exactly the bytes the reference's ``Message.to_bytes()`` writes, and
``decode_json`` reads them as the reference's ``Message.from_bytes()`` does (pydantic's lax
validation through the discriminated union on ``type``), with one difference: every failure is a
:class:`noobwire.DecodeError` (a ``ValueError``), the pydantic ``ValidationError`` as its cause.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from noobwire.errors import DecodeError, EncodeError, SchemaError
from noobwire.messages import MESSAGE_CLASSES, Message, MessageAdapter
from noobwire.options import DEFAULT_OPTIONS, Options
from noobwire.schema import construct_message

__all__ = ["decode_json", "encode_json"]


def encode_json(msg: Message) -> bytes:
    """The reference JSON bytes of ``msg`` (``model_dump_json()`` as UTF-8)."""
    try:
        return msg.model_dump_json().encode("utf-8")
    except PydanticSerializationError as exc:
        raise EncodeError(f"the reference JSON codec cannot write this message: {exc}") from exc


def decode_json(
    buf: Any, classes: dict[str, type[Message]] = MESSAGE_CLASSES, options: Options = DEFAULT_OPTIONS
) -> Message:
    """Read a legacy JSON frame (bytes or a buffer) as the reference does.

    The mirror validates it; with a ``classes`` table other than the mirror's, the validated fields
    are then put in the table's class for the message's type. With pickle off in ``options``, a
    ``pck__`` value (the reference's pickles) is refused instead of unpickled.
    """
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
    if classes is MESSAGE_CLASSES:
        return msg
    type_name = str(msg.type_)
    return construct_message(classes[type_name], type_name, msg.node_id, msg.timestamp, msg.value)


def _refusal(errors: list[Any]) -> str | None:
    """What the pickle policy refused in a JSON frame, if that is why it failed validation."""
    for error in errors:
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, DecodeError):
            return cause.reason
    return None
