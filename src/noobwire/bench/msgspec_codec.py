"""msgspec's MessagePack codec on a msgspec schema of the same shape as the pydantic mirror.

This is how a msgspec user would write noob's messages: one ``Struct`` per message type in a union
tagged on ``type``, the values as ``TypedDict``s, the event values as ``Any``, aware datetimes as
MessagePack timestamps (msgspec's default), and numpy arrays as an extension type (see
:mod:`noobwire.bench.array_ext`). Structs keep msgspec's default layout (a map per message), as
noob's messages are maps in the reference JSON. Importing this module needs msgspec.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

import msgspec

from noobwire.bench.array_ext import ARRAY_EXT_CODE, array_from_payload, array_payload, is_array

# The mirror's own value types where msgspec reads them as they are (their fields are plain types).
from noobwire.messages import AnnounceValue, IdentifyValue, Message, NodeStatus

__all__ = ["MsgspecMessage", "decode", "encode", "from_message"]


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


class AnnounceMsg(_Base, tag="announce"):
    value: AnnounceValue


class IdentifyMsg(_Base, tag="identify"):
    value: IdentifyValue


class ProcessMsg(_Base, tag="process"):
    value: ProcessValue


class InitMsg(_Base, tag="init"):
    value: None = None


class DeinitMsg(_Base, tag="deinit"):
    value: None = None


class PingMsg(_Base, tag="ping"):
    value: None = None


class StartMsg(_Base, tag="start"):
    value: int | None = None


class StatusMsg(_Base, tag="status"):
    value: NodeStatus


class StopMsg(_Base, tag="stop"):
    value: None = None


class EventMsg(_Base, tag="event"):
    value: list[Event]


class ErrorMsg(_Base, tag="error"):
    value: ErrorValue


MsgspecMessage = (
    AnnounceMsg
    | IdentifyMsg
    | ProcessMsg
    | InitMsg
    | DeinitMsg
    | PingMsg
    | StartMsg
    | StatusMsg
    | StopMsg
    | EventMsg
    | ErrorMsg
)
"""Any of the eleven message types, told apart by the ``type`` tag."""


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


_encoder = msgspec.msgpack.Encoder(enc_hook=enc_hook)
_decoder: msgspec.msgpack.Decoder[MsgspecMessage] = msgspec.msgpack.Decoder(
    MsgspecMessage,
    ext_hook=ext_hook,
)


def error_type_name(err_type: type) -> str:
    """How an error message's exception class travels here: its qualified name (msgspec has no type
    for a class object)."""
    return f"{err_type.__module__}.{err_type.__qualname__}"


def from_message(msg: Message) -> MsgspecMessage:
    """The msgspec Struct holding the same data as a pydantic mirror message."""
    data = msg.model_dump()
    data["type"] = str(data["type"])  # a MessageType member when the message kept its default
    if data["type"] == "error":
        data["value"] = {**data["value"], "err_type": error_type_name(data["value"]["err_type"])}
    return msgspec.convert(data, MsgspecMessage)  # type: ignore[no-any-return]


def encode(struct: MsgspecMessage) -> bytes:
    """The MessagePack frame of a message Struct."""
    return _encoder.encode(struct)


def decode(frame: Any) -> MsgspecMessage:
    """The message Struct of a frame, validated against the tagged union of message types."""
    return _decoder.decode(frame)
