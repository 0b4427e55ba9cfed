"""msgspec's MessagePack codec on a msgspec schema of the same shape as noob 1003's messages.

The counterpart of :mod:`noobwire.bench.msgspec_codec` for the workloads of noob 1003's own messages:
the thirteen message types of noob 1003 (the reference's eleven, ``epoch_ended`` and ``spec``) in a
union tagged on ``type`` (the seven whose shape has not changed are the reference's own Structs), the
values as ``TypedDict``s, and an epoch as noob's own ``noob_core.Epoch`` (a type msgspec does not know:
written through ``enc_hook`` as its ``to_wire()`` form, an int for a root epoch or
``[root, [node_id, n], ...]`` for a sub-epoch, and made again through ``dec_hook``), as a user of
msgspec with noob 1003 would have to: noob's scheduler works on ``Epoch`` objects, not on their wire
form. Importing this module needs msgspec and noob_core; :func:`from_message` needs noob 1003.x.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypedDict

from noob_core import Epoch

from noobwire.bench.msgspec_codec import VALUE_TYPES, MsgspecSchema, enc_hook

__all__ = ["NoobMessage", "decode", "encode", "from_message"]


class Event(TypedDict):
    id: int
    timestamp: datetime
    node_id: str
    signal: str
    epoch: Epoch
    value: Any


class ProcessValue(TypedDict):
    epoch: Epoch | None
    input: dict[Any, Any] | None


class IdentifyValue(TypedDict):
    node_id: str
    outbox: str
    signals: list[str] | None
    slots: list[str] | None
    subscribed_to: list[str]
    subscribers: list[str]


class AnnounceValue(TypedDict):
    inbox: str
    nodes: dict[str, IdentifyValue]


def _epoch_to_wire(value: Any) -> Any:
    return value.to_wire() if type(value) is Epoch else enc_hook(value)


def _epoch_from_wire(kind: type, wire: Any) -> Any:
    if kind is not Epoch:
        raise NotImplementedError(f"msgspec cannot decode {kind.__qualname__}")
    if type(wire) is int:
        return Epoch(wire)
    if type(wire) is not list or not wire:
        raise ValueError("an epoch is an int or an array [root, [node_id, n], ...]")
    return Epoch(wire[0], [tuple(segment) for segment in wire[1:]])


def _keep_epoch(kind: type, value: Any) -> Any:
    if kind is Epoch and type(value) is Epoch:
        return value
    raise NotImplementedError(f"not a {kind.__qualname__}: {type(value).__qualname__}")


SCHEMA = MsgspecSchema(
    {
        **VALUE_TYPES,  # the seven whose shape has not changed since the reference
        "announce": AnnounceValue,
        "identify": IdentifyValue,
        "process": ProcessValue,
        "event": list[Event],
        "epoch_ended": Epoch,
        "spec": dict[str, Any],
    },
    enc_hook=_epoch_to_wire,
    dec_hook=_epoch_from_wire,
    convert_hook=_keep_epoch,
)
NoobMessage: Any = SCHEMA.union
"""Any of noob 1003's thirteen message types, told apart by the ``type`` tag."""

from_message: Callable[[Any], Any] = SCHEMA.from_message
"""The msgspec Struct holding the same data as a noob 1003 message (its epochs the same objects)."""
encode = SCHEMA.encode
"""The MessagePack frame of a message Struct, its epochs written in their wire form."""
decode = SCHEMA.decode
"""The message Struct of a frame, validated against the tagged union of noob 1003's message types."""
