"""A stand-in codec for :func:`noobwire.noob_runner.patch_runner`: noob's current event messages carried in
wire format 1.

Wire format 1 mirrors the reference schema, whose event epochs are ints; noob 1000 and later has epoch paths
(``noob_core.Epoch``), ``MetaEvent`` and other shapes that format 1 does not describe. Until the format of
noob's current schema exists, this codec carries each noob event message inside one format-1 event: its
value is the list of noob's events, so their values' large buffers still go out of band (format 1 finds
them nested in lists and dicts) and everything else noob put in them (epochs, meta signals) is pickled in
the header. It decodes into noob's own ``EventMsg``. Only event messages holding a buffer of at least the
threshold are taken; every other message is left to noob's own ``to_bytes()`` / ``from_bytes()``.

This is a prototype's codec, not a format: its frames are only for processes that run it too.
"""

from __future__ import annotations

import sys
from datetime import datetime
from types import ModuleType
from typing import Any

from noobwire import messages, wire
from noobwire.codec import Codec
from noobwire.errors import DecodeError
from noobwire.schema import construct_message

__all__ = ["CARRIER_SIGNAL", "holds_large_buffer", "wire1_codec"]

CARRIER_SIGNAL = "__noobwire_noob_events__"
"""The signal of the one format-1 event that carries a noob event message's events."""

_PLAIN = frozenset({int, float, str, bool, type(None), datetime})
_MAX_DEPTH = 32


def holds_large_buffer(value: Any, threshold: int, depth: int = 0) -> bool:
    """Whether ``value`` holds, in lists, tuples or dict values, a numpy array (not of objects), ``bytes``,
    ``bytearray`` or ``memoryview`` of at least ``threshold`` bytes: what goes out of band."""
    kind = type(value)
    if kind in _PLAIN:
        return False
    if kind is bytes or kind is bytearray:
        return len(value) >= threshold
    if kind is memoryview:
        return bool(value.nbytes >= threshold)
    if kind is list or kind is tuple or kind is dict:
        if depth >= _MAX_DEPTH:
            return False
        items = value.values() if kind is dict else value
        return any(holds_large_buffer(item, threshold, depth + 1) for item in items)
    np = sys.modules.get("numpy")
    return bool(
        np is not None and kind is np.ndarray and not value.dtype.hasobject and value.nbytes >= threshold
    )


def wire1_codec(
    message_module: ModuleType, codec: Codec | None = None, *, every_event: bool = False
) -> tuple[Any, Any]:
    """``(encode_frames, decode_frames)`` for :func:`noobwire.noob_runner.patch_runner`, on ``codec``
    (default: a :class:`noobwire.Codec` with default settings), decoding into ``message_module``'s
    ``EventMsg``. With ``every_event``, every event message is taken, not only those holding a large
    buffer (to exercise the carrier with all that noob puts in events)."""
    codec = codec or Codec()
    their_event_class = message_module.EventMsg
    carrier_class = messages.EventMsg
    carrier_classes: dict[str, type[messages.Message]] = {"event": carrier_class}
    json_first_bytes = wire.JSON_FIRST_BYTES

    def encode_frames(msg: Any, threshold: int) -> list[Any] | None:
        """The frames of noob event message ``msg``, or None if it holds no large buffer."""
        if not every_event and not holds_large_buffer(msg.value, threshold):
            return None
        carrier_event = {
            "id": 0,
            "timestamp": msg.timestamp,
            "node_id": msg.node_id,
            "signal": CARRIER_SIGNAL,
            "epoch": 0,
            "value": list(msg.value),
        }
        carrier = construct_message(carrier_class, "event", msg.node_id, msg.timestamp, [carrier_event])
        return codec.encode_frames(carrier, threshold)

    def decode_frames(frames: list[Any]) -> Any:
        """noob's ``EventMsg`` from frames written by ``encode_frames``; None for a JSON frame."""
        header = frames[-1]
        first = header.buffer[0] if len(header.buffer) else None
        if first is None or first in json_first_bytes:
            return None
        carrier = codec.decode_frames(frames, carrier_classes)
        events = carrier.value
        if type(events) is not list or len(events) != 1 or events[0]["signal"] != CARRIER_SIGNAL:
            raise DecodeError("a noobwire event message that does not carry a noob event message")
        return construct_message(
            their_event_class, "event", carrier.node_id, carrier.timestamp, events[0]["value"]
        )

    return encode_frames, decode_frames
