"""Hostile frames built byte by byte: shapes that cost a decoder the most for their size.

The tests of cost bounded by the frame (``test_cost.py``) and the fuzz harness's amplification oracle
and structure-aware generator (``fuzz/fuzz_decoders.py``) share these builders. Every frame is an
event message of one event whose value is the shape (so the shape starts at level 4, as an attacker's
value would), unless a builder says otherwise.
"""

from __future__ import annotations

import json
import struct
import tracemalloc
from collections.abc import Callable
from typing import Any

import msgpack

from noobwire import wire
from noobwire._core.extensions import MAX_KEY_DEPTH
from noobwire.generations import REFERENCE
from noobwire.layout import Generation, Kind, Nullable, OneOf, Record

EVENT_PREFIX = bytes(
    [0x96, REFERENCE.version, REFERENCE.type_codes["event"], 0x00, 0xA1, ord("n"), 0xD6, 0xFF, 0, 0, 0, 0]
)
"""A frame's first five fields: version, the event type code, no buffers, node_id "n", a timestamp."""
ONE_EVENT = bytes([0x91, 0x96, 0x00, 0xD6, 0xFF, 0, 0, 0, 0, 0xA0, 0xA0, 0x00])
"""The events array of one event, up to its value: id 0, a timestamp, node_id "", signal "", epoch 0."""
VALUE_DEPTH = 4
"""The nesting level at which an event's value starts (the frame's array is level 1)."""


def event_frame(value: bytes) -> bytes:
    """The frame of an event message of one event whose value is the MessagePack ``value``."""
    return EVENT_PREFIX + ONE_EVENT + value


def array_header(count: int) -> bytes:
    """The shortest array header for ``count`` items."""
    return _header(count, 0x90, b"\xdc", b"\xdd")


def map_header(count: int) -> bytes:
    """The shortest map header for ``count`` entries."""
    return _header(count, 0x80, b"\xde", b"\xdf")


def _header(count: int, fix: int, marker16: bytes, marker32: bytes) -> bytes:
    if count < 16:
        return bytes([fix | count])
    if count < 0x10000:
        return marker16 + struct.pack(">H", count)
    return marker32 + struct.pack(">I", count)


# --- the attacks: containers that claim what the bytes left could hold, nested ---------------------------


def nested_claims(kind: str, size: int, levels: int = wire.MAX_DEPTH - VALUE_DEPTH) -> bytes:
    """A frame of about ``size`` bytes: ``levels`` nested arrays (``kind`` "array"), maps ("map") or
    both in turn ("mixed"), each declaring as many items as the bytes left after its header could hold
    on their own (not counting what the containers around it still need); the innermost is followed
    by filler. Valid nowhere: the outer containers' items are missing. A decoder that presizes from
    each count holds ``levels`` times the frame before it finds out."""
    headers = []
    left = size - len(EVENT_PREFIX) - len(ONE_EVENT)
    for level in range(levels):
        is_map = kind == "map" or (kind == "mixed" and level % 2)
        left -= 5 + is_map  # the header, and a map's key
        if left < 2:
            break
        count = left // 2 if is_map else left
        header = (b"\xdf" if is_map else b"\xdd") + struct.pack(">I", count)
        headers.append(header + (b"\x00" if is_map else b""))
    body = b"".join(headers)
    filler = size - len(EVENT_PREFIX) - len(ONE_EVENT) - len(body)
    return event_frame(body + b"\x00" * max(filler, 0))


def fitting_claims(kind: str, size: int, levels: int = wire.MAX_DEPTH - VALUE_DEPTH) -> bytes:
    """A valid frame of about ``size`` bytes: ``levels`` nested containers, each declaring two items
    (entries) of which the first is the next level and the last a long container of zeros that takes
    the bytes the inner levels leave: every count fits the bytes left at its depth."""
    per_level = 5 if kind == "array" else 6  # header + (key) + the tail's header
    levels = max(1, min(levels, (size - 64) // (2 * per_level)))
    tail_total = size - len(EVENT_PREFIX) - len(ONE_EVENT) - levels * per_level - 1
    tail = max(tail_total // levels, 0)
    opening, closing = [], []
    for _ in range(levels):
        if kind == "array":
            opening.append(array_header(2))
        else:
            opening.append(map_header(2) + b"\x00")  # key 0 -> the next level
        closing.append((b"" if kind == "array" else b"\x01") + array_header(tail) + b"\x00" * tail)
    return event_frame(b"".join(opening) + b"\xc0" + b"".join(reversed(closing)))


# --- many small objects: the most Python objects per byte ------------------------------------------------


def _repeated(item: bytes, size: int, as_map: bool = False) -> bytes:
    room = size - len(EVENT_PREFIX) - len(ONE_EVENT) - 5
    count = max(room // len(item), 0)
    header = map_header(count) if as_map else array_header(count)
    return event_frame(header + item * count)


def _keyed(item: bytes, size: int) -> bytes:
    """A map of distinct uint16 keys, each holding ``item``."""
    room = size - len(EVENT_PREFIX) - len(ONE_EVENT) - 5
    count = min(max(room // (3 + len(item)), 0), 0xFFFF)
    entries = b"".join(b"\xcd" + struct.pack(">H", key) + item for key in range(count))
    return event_frame(map_header(count) + entries)


def _chains(link: bytes, end: bytes, size: int, levels: int = wire.MAX_DEPTH - VALUE_DEPTH - 1) -> bytes:
    """An array of chains, each ``levels`` links deep (a link opens a container of one item)."""
    chain = link * levels + end
    return _repeated(chain, size)


SHAPES: dict[str, Callable[[int], bytes]] = {
    "empty maps": lambda size: _repeated(b"\x80", size),
    "empty arrays": lambda size: _repeated(b"\x90", size),
    "empty sets": lambda size: _repeated(b"\x91\xc7\x00" + bytes([wire.EXT_SET]), size),
    "empty frozensets": lambda size: _repeated(b"\x91\xc7\x00" + bytes([wire.EXT_FROZENSET]), size),
    "1-tuples": lambda size: _repeated(b"\x92\xc7\x00" + bytes([wire.EXT_TUPLE]) + b"\x00", size),
    "1-entry maps": lambda size: _repeated(b"\x81\x00\x00", size),
    "1-entry maps, str keys": lambda size: _repeated(b"\x81\xa0\x00", size),
    "maps of empty maps": lambda size: _keyed(b"\x80", size),
    "nested 1-entry maps": lambda size: _chains(b"\x81\x00", b"\x00", size),
    "nested 1-entry maps, str keys": lambda size: _chains(b"\x81\xa0", b"\x00", size),
    "nested 1-item arrays": lambda size: _chains(b"\x91", b"\x00", size),
    "nested 1-sets": lambda size: _chains(  # (as deep as a set's element may nest)
        b"\x92\xc7\x00" + bytes([wire.EXT_FROZENSET]), b"\x00", size, MAX_KEY_DEPTH
    ),
    "maps claiming duplicates": lambda size: _repeated(b"\xde\x00\x40" + b"\x00\x00" * 64, size),
    "2-byte strs": lambda size: _repeated(b"\xa2ab", size),
    "uint16s": lambda size: _repeated(b"\xcd\x12\x34", size),
    "floats": lambda size: _repeated(b"\xca\x3f\x80\x00\x00", size),
    "offset datetimes": lambda size: _repeated(
        b"\xc7\x14" + bytes([wire.EXT_DATETIME]) + bytes(12) + struct.pack(">q", 3_600_000_000), size
    ),
    "empty arrays of numpy": lambda size: _repeated(
        b"\xc7\x08" + bytes([wire.EXT_NDARRAY]) + b"\x93\xa3|u1\x91\x00\x00", size
    ),
    "numpy bytes": lambda size: _repeated(
        b"\xc7\x09" + bytes([wire.EXT_NDARRAY]) + b"\x93\xa3|u1\x91\x01\x00\x07", size
    ),
    "big ints": lambda size: _repeated(b"\xd4" + bytes([wire.EXT_BIGINT]) + b"\x01", size),
}
"""Each shape by name: a builder of a frame of about the size given."""


def peak_growth(decode: Callable[[bytes], Any], frame: bytes) -> tuple[int, BaseException | None]:
    """The peak of memory traced (by ``tracemalloc``) while ``decode(frame)`` runs, above what was
    held before it, and what it raised (None if it returned). The decoded result is dropped before
    the peak is read, so it counts in the peak."""
    error: BaseException | None = None
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        try:
            decode(frame)
        except Exception as exc:  # the verdict is the caller's to judge
            error = exc
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return peak - before, error


# --- refusals whose problems multiply: many bad items under one long key -----------------------------


def _identify_wire(generation: Generation, bad_items: int) -> list[Any]:
    """An identify value as written (an array of its fields), its signals ``bad_items`` ints where strs
    belong, every other field as it should be."""
    record = generation.messages[generation.type_codes["identify"]].value
    assert isinstance(record, Record)
    fields: list[Any] = []
    for item in record.fields:
        if item.name == "signals":
            fields.append([0] * bad_items)
        elif isinstance(item.shape, OneOf):
            fields.append("ready")
        elif isinstance(item.shape, Kind):
            fields.append("n")
        else:
            fields.append(None if isinstance(item.shape, Nullable) else [])
    return fields


def problems_under_one_key(generation: Generation, size: int) -> bytes:
    """An announce message (a control message, validated by its class) of about ``size`` bytes: its one
    node sits under a key of half the bytes, and has as many ints where its signals' strs belong as the
    other half holds. A validator that names every problem with its place writes the key once for each:
    a message of the frame's size squared."""
    key = "k" * (size // 2)
    value = ["inbox", {key: _identify_wire(generation, size // 2)}]
    return msgpack.packb(
        [generation.version, generation.type_codes["announce"], 0, "n", msgpack.Timestamp(0), value]
    )


def json_problems_under_one_key(generation: Generation, size: int) -> bytes:
    """:func:`problems_under_one_key` as a legacy JSON frame (``size // 4`` bad signals: ``0,`` each)."""
    record = generation.messages[generation.type_codes["identify"]].value
    assert isinstance(record, Record)
    node = dict(zip(record.keys, _identify_wire(generation, size // 4), strict=True))
    value = {"inbox": "i", "nodes": {"k" * (size // 2): node}}
    return json.dumps(
        {"type": "announce", "node_id": "n", "timestamp": "2026-01-01T00:00:00Z", "value": value}
    ).encode()


def json_empty_events(size: int) -> bytes:
    """A legacy JSON event message of about ``size`` bytes whose events are all ``{}``: three bytes
    each, and each missing all six of an event's fields."""
    events = ",".join(["{}"] * (size // 3))
    head = '{"type":"event","node_id":"n","timestamp":"2026-01-01T00:00:00Z","value":['
    return (head + events + "]}").encode()


REFUSED_BUILDERS: dict[str, Callable[[Generation, int], bytes]] = {
    "problems under one key": problems_under_one_key,
    "problems under one key, JSON": json_problems_under_one_key,
    "empty events, JSON": lambda generation, size: json_empty_events(size),
}
"""Frames refused for problems that multiply, by name: a builder of one of ``size`` bytes or so."""


def resident_peak_growth(action: Callable[[], Any]) -> int:
    """How far the process's peak resident memory rises above what it holds now while ``action`` runs,
    in bytes: Linux's high-water mark (``VmHWM``), reset to the current size first (``clear_refs``).
    It counts what tracemalloc does not see (pydantic's own memory, in Rust), and what a parent
    process reached before (``ru_maxrss`` of a child starts at its parent's peak) does not count."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = _status_kib("VmRSS")
    action()
    return (_status_kib("VmHWM") - before) * 1024


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)
