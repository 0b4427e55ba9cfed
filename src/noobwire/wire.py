"""Constants of noobwire's wire format, version 1 (``docs/wire-format.md``), shared by both backends."""

from __future__ import annotations

from typing import Final

VERSION: Final = 1
"""The format version, the first element of every frame's array."""

HEADER_LENGTH: Final = 6
"""A frame is a MessagePack array ``[version, type, n_buffers, node_id, timestamp, value]``."""

MESSAGE_TYPES: Final = (
    "announce",
    "identify",
    "process",
    "init",
    "deinit",
    "ping",
    "start",
    "status",
    "stop",
    "event",
    "error",
)
"""The type code of a message is the index of its type here (the order of ``MessageType``)."""

TYPE_CODES: Final = {name: code for code, name in enumerate(MESSAGE_TYPES)}

EVENT_CODE: Final = TYPE_CODES["event"]
PROCESS_CODE: Final = TYPE_CODES["process"]

EVENT_FIELDS: Final = ("id", "timestamp", "node_id", "signal", "epoch", "value")
"""An event travels as an array of these fields, in this order."""

IDENTIFY_FIELDS: Final = ("node_id", "outbox", "status", "signals", "slots")
PROCESS_FIELDS: Final = ("epoch", "input")
ERROR_FIELDS: Final = ("err_type", "err_args", "traceback")

# Extension types (MessagePack ext codes). -1 is MessagePack's own timestamp.
EXT_TIMESTAMP: Final = -1
"""An aware datetime whose UTC offset is zero; decodes with ``tzinfo=timezone.utc``."""
EXT_TUPLE: Final = 1
"""Zero-length marker: the first element of an array that holds a tuple."""
EXT_SET: Final = 2
"""Zero-length marker: the first element of an array that holds a set."""
EXT_FROZENSET: Final = 3
"""Zero-length marker: the first element of an array that holds a frozenset."""
EXT_BIGINT: Final = 4
"""An int outside [-2**63, 2**64): big-endian two's complement, as few bytes as hold it."""
EXT_DATETIME: Final = 5
"""A naive datetime (12 bytes) or one with a non-zero UTC offset (20 bytes)."""
EXT_NOEVENT: Final = 6
"""``MetaSignal.NoEvent``; empty payload."""
EXT_NDARRAY: Final = 7
"""A numpy array or numpy scalar: a MessagePack header ``[dtype, shape, layout]``, then the data."""
EXT_PICKLE: Final = 8
"""Any other object, pickled with protocol 5 (subject to the pickle policy)."""
EXT_EXCEPTION_TYPE: Final = 9
"""An exception class, by name: UTF-8 ``"module:qualname"``."""

CONTAINER_MARKERS: Final = (EXT_TUPLE, EXT_SET, EXT_FROZENSET)

OUT_OF_BAND_EXT_CODES: Final = range(16, 32)
"""Reserved for references to out-of-band buffer frames; never valid in a single-frame message."""
EXT_BUFFER_NDARRAY: Final = 16
"""A numpy array whose items are a buffer frame: a MessagePack ``[index, dtype, shape, layout]``."""
EXT_BUFFER_BYTES: Final = 17
"""A bytes value that is a buffer frame: the frame's index, a MessagePack int."""

DEFAULT_BUFFER_THRESHOLD: Final = 65536
"""Buffers of at least this many bytes travel out of band (in frames of their own)."""

LAYOUT_C: Final = 0
LAYOUT_F: Final = 1
LAYOUT_SCALAR: Final = 2

DATETIME_NAIVE_SIZE: Final = 12
DATETIME_OFFSET_SIZE: Final = 20

MAX_NDIM: Final = 64
"""An array has at most this many dimensions (numpy's own limit)."""

MAX_DEPTH: Final = 1024
"""Arrays and maps nest at most this deep, the frame's own array counting as one."""

PICKLE_PROTOCOL: Final = 5

JSON_FIRST_BYTES: Final = frozenset(b"{ \t\r\n")
"""A frame that starts with one of these bytes is a legacy JSON frame."""
