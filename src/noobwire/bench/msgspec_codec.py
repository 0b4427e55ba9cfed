"""msgspec's MessagePack codec on a msgspec schema of the same shape as the pydantic mirror.

This is how a msgspec user would write noob's messages: one ``Struct`` per message type in a union
tagged on ``type``, the values as ``TypedDict``s, the event values as ``Any``, aware datetimes as
MessagePack timestamps (msgspec's default), and numpy arrays as an extension type (see
:mod:`noobwire.bench.array_ext`). Structs keep msgspec's default layout (a map per message), as
noob's messages are maps in the reference JSON. Importing this module needs msgspec.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict, Union

import msgspec

from noobwire.bench.array_ext import ARRAY_EXT_CODE, array_from_payload, array_payload, is_array

# The mirror's own value types where msgspec reads them as they are (their fields are plain types).
from noobwire.messages import AnnounceValue, IdentifyValue, Message, NodeStatus

__all__ = ["SCHEMA", "MsgspecMessage", "MsgspecSchema", "decode", "encode", "from_message", "message_struct"]


class Event(TypedDict):
    id: int
    timestamp: datetime
    node_id: str
    signal: str
    epoch: int
    value: Any


class ErrorValue(TypedDict):
    # msgspec has no type for a class object: the exception type travels as its qualified name.
    err_type: str
    err_args: tuple[Any, ...]
    traceback: str


class ProcessValue(TypedDict):
    epoch: int
    input: dict[Any, Any] | None


class _Base(msgspec.Struct, tag_field="type"):
    node_id: str
    timestamp: datetime


_NO_DEFAULT: Any = msgspec.NODEFAULT


def message_struct(tag: str, value: Any, default: Any = _NO_DEFAULT) -> type[msgspec.Struct]:
    """A message type as a msgspec user would declare it: a Struct tagged ``tag`` on ``type``, with
    ``node_id``, ``timestamp`` and a ``value`` of type ``value`` (``default`` when it may be left out).
    ``"epoch_ended"`` is named ``EpochEndedMsg``, as noob names its class."""
    name = "".join(part.title() for part in tag.split("_")) + "Msg"
    field = ("value", value) if default is _NO_DEFAULT else ("value", value, default)
    return msgspec.defstruct(name, [field], bases=(_Base,), tag=tag, module=__name__)


class MsgspecSchema:
    """msgspec's encoder and decoder for a union of message types, one per tag of ``value_types``
    (a tag to its value's type, or to ``(type, default)`` for a value that may be left out)."""

    def __init__(
        self,
        value_types: dict[str, Any],
        *,
        enc_hook: Callable[[Any], Any],
        dec_hook: Callable[[type, Any], Any] | None = None,
        convert_hook: Callable[[type, Any], Any] | None = None,
    ) -> None:
        self.structs = {
            tag: message_struct(tag, *(value if type(value) is tuple else (value,)))
            for tag, value in value_types.items()
        }
        self.union: Any = Union[tuple(self.structs.values())]  # noqa: UP007 (built at run time)
        self._convert_hook = convert_hook
        # The bound methods themselves, so that the benchmark times msgspec and nothing of ours.
        self.encode: Callable[[Any], bytes] = msgspec.msgpack.Encoder(enc_hook=enc_hook).encode
        self.decode: Callable[[Any], Any] = msgspec.msgpack.Decoder(
            self.union, ext_hook=ext_hook, dec_hook=dec_hook
        ).decode

    def from_message(self, msg: Any) -> Any:
        """The Struct holding the same data as a pydantic message (the mirror's or noob's)."""
        data = msg.model_dump()
        data["type"] = str(getattr(data["type"], "value", data["type"]))  # a MessageType member
        if data["type"] == "error":
            err_type = error_type_name(data["value"]["err_type"])
            data["value"] = {**data["value"], "err_type": err_type}
        return msgspec.convert(data, self.union, dec_hook=self._convert_hook)


def enc_hook(obj: Any) -> Any:
    """A value msgspec does not know into one it does (msgspec's ``enc_hook``): an array's extension."""
    if is_array(obj):
        return msgspec.msgpack.Ext(ARRAY_EXT_CODE, array_payload(obj))
    raise NotImplementedError(f"msgspec codec: cannot encode {type(obj).__qualname__}")


def ext_hook(code: int, data: memoryview) -> Any:
    """An extension of a frame back into its value (msgspec's ``ext_hook``): the arrays'."""
    if code == ARRAY_EXT_CODE:
        return array_from_payload(data)
    raise ValueError(f"msgspec codec: unknown extension code {code}")


def error_type_name(err_type: type) -> str:
    """How an error message's exception class travels here: its qualified name (msgspec has no type
    for a class object)."""
    return f"{err_type.__module__}.{err_type.__qualname__}"


VALUE_TYPES: dict[str, Any] = {
    "announce": AnnounceValue,
    "identify": IdentifyValue,
    "process": ProcessValue,
    "init": (None, None),
    "deinit": (None, None),
    "ping": (None, None),
    "start": (int | None, None),
    "status": NodeStatus,
    "stop": (None, None),
    "event": list[Event],
    "error": ErrorValue,
}
"""The eleven message types of the reference: a tag to its value's type (and default, if any)."""

SCHEMA = MsgspecSchema(VALUE_TYPES, enc_hook=enc_hook)
MsgspecMessage: Any = SCHEMA.union
"""Any of the eleven message types, told apart by the ``type`` tag."""
EventMsg = SCHEMA.structs["event"]

from_message: Callable[[Message], Any] = SCHEMA.from_message
"""The msgspec Struct holding the same data as a pydantic mirror message."""
encode = SCHEMA.encode
"""The MessagePack frame of a message Struct."""
decode = SCHEMA.decode
"""The message Struct of a frame, validated against the tagged union of message types."""
