"""Constants of noobwire's wire format (``docs/wire-format.md``), shared by both backends and every
generation of the schema. What differs between generations (the version, the message types, the
layouts of their values) is in :mod:`noobwire.generations`."""

from __future__ import annotations

import struct
from typing import Final

HEADER_LENGTH: Final = 6
"""A frame is a MessagePack array ``[version, type, n_buffers, node_id, timestamp, value]``."""

FRAME_ARRAY: Final = 0x90 | HEADER_LENGTH
"""The first byte of every frame a noobwire encoder writes (a fixarray of six); the version follows."""

# Nesting levels, the frame's own array being level 1 (``max_depth`` counts them).
LEVEL_FRAME: Final = 1
LEVEL_FIELD: Final = 2
"""The header's fields and the message's value."""
LEVEL_RECORD_FIELD: Final = 3
"""The fields of a record that is a message's value (a process message's epoch and input)."""
LEVEL_LISTED_RECORD_FIELD: Final = 4
"""The fields of a record in a list that is a message's value (an event's fields)."""

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
EXT_META_SIGNAL: Final = 6
"""A member of the generation's meta-signal enum: empty payload for ``NoEvent``, else its name (UTF-8)."""
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

PICKLE_PREFIX: Final = "pck__"
"""The reference JSON writes what it cannot serialize as this prefix + base64(pickle)."""

# MessagePack's own formats that the frame readers outside the backends need.
INT_FORMATS: Final = {  # the fixed-size ints: marker -> how the value after it is packed
    0xCC: struct.Struct(">B"),
    0xCD: struct.Struct(">H"),
    0xCE: struct.Struct(">I"),
    0xCF: struct.Struct(">Q"),
    0xD0: struct.Struct(">b"),
    0xD1: struct.Struct(">h"),
    0xD2: struct.Struct(">i"),
    0xD3: struct.Struct(">q"),
}
ARRAY_LENGTHS: Final = {0xDC: struct.Struct(">H"), 0xDD: struct.Struct(">I")}
"""The array headers with a length field: marker -> how the length is packed."""
