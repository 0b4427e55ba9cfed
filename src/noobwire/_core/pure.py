"""The pure-Python backend: noobwire's wire format on msgpack-python, for every generation.

It is the twin of the compiled backend: the same functions, the same bytes, the same rejections. It
reads a generation's description (:mod:`noobwire.layout`) at run time: each hot record is turned once
into a plan, whose common case is code generated from the layout (:mod:`noobwire._core.record_code`),
and applied to every record of that layout; the general path converts or refuses what the common case
does not take.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any

import msgpack
from msgpack import ExtType, Timestamp

from noobwire import wire
from noobwire._core import epochs, extensions, meta_events, shapes
from noobwire._core.diagnosis import (
    check_depth,
    locate_encode_error,
    locate_malformation,
    refuse_too_deep,
    refuse_too_deep_keys,
)
from noobwire._core.framing import check_frame_size, check_prefix, frame_to_decode, is_json
from noobwire._core.legacy_json import decode_json, written_again
from noobwire._core.out_of_band import OutOfBand, ReceivedBuffers, finish_header, take_out_of_band
from noobwire._core.pickled_strs import refuse_decoded, refuse_encoded
from noobwire._core.record_code import record_code
from noobwire._core.scalars import as_str
from noobwire._core.screens import is_whole, may_nest_deeper, may_presize_beyond, nests_deeper
from noobwire._core.validation import validate_control_message
from noobwire.errors import DecodeError, EncodeError, SchemaError, describe
from noobwire.generations import REFERENCE, GenerationLike, as_generation
from noobwire.layout import Generation, Kind, MessageLayout, Record
from noobwire.options import DEFAULT_OPTIONS, Options

__all__ = ["decode", "decode_frame", "encode", "pack_value", "try_pack", "unpack"]

_new_object = object.__new__
_TUPLE = ExtType(wire.EXT_TUPLE, b"")
_SET = ExtType(wire.EXT_SET, b"")
_FROZENSET = ExtType(wire.EXT_FROZENSET, b"")
_MAX_DEPTH = wire.MAX_DEPTH

# --- encoding ----------------------------------------------------------------------------------


def _timestamp(seconds: int, nanoseconds: int) -> Timestamp:
    # Timestamp.__init__ re-checks what is true by construction; skipping it halves the cost.
    stamp = _new_object(Timestamp)
    stamp.seconds = seconds
    stamp.nanoseconds = nanoseconds
    return stamp


def _datetime_ext(dt: datetime) -> Timestamp | ExtType:
    if dt.tzinfo is UTC:
        delta = dt - extensions.EPOCH
        return _timestamp(delta.days * 86400 + delta.seconds, delta.microseconds * 1000)
    seconds, nanoseconds, offset_us = extensions.datetime_parts(dt)
    if offset_us == 0:
        return _timestamp(seconds, nanoseconds)
    return ExtType(wire.EXT_DATETIME, extensions.datetime_payload(seconds, nanoseconds, offset_us, dt.fold))


def _make_default(allow_pickle: bool, meta_signal: Any) -> Callable[[Any], Any]:
    """The packer's ``default`` under one pickle policy, for a generation whose meta-signal enum is
    ``meta_signal``."""

    def default(obj: Any) -> Any:
        """Called by the packer for every value that is not exactly a MessagePack type."""
        kind = type(obj)
        if kind is meta_signal:
            return ExtType(wire.EXT_META_SIGNAL, extensions.meta_signal_payload(obj))
        if kind is tuple:
            _local.hashable_containers += 1
            return [_TUPLE, *obj]
        if kind is set:
            return [_SET, *_canonical_order(obj, default)]
        if kind is frozenset:
            _local.hashable_containers += 1
            return [_FROZENSET, *_canonical_order(obj, default)]
        if kind is datetime:
            return _datetime_ext(obj)
        if kind is int:  # only ints outside [-2**63, 2**64) get here
            return ExtType(wire.EXT_BIGINT, extensions.bigint_payload(obj))
        if isinstance(obj, type) and issubclass(obj, BaseException):
            return ExtType(wire.EXT_EXCEPTION_TYPE, extensions.exception_type_payload(obj, allow_pickle))
        if extensions.is_numpy_value(obj):
            payload = extensions.ndarray_payload(obj)
            if payload is not None:
                return ExtType(wire.EXT_NDARRAY, payload)
        return ExtType(wire.EXT_PICKLE, extensions.pickle_payload(obj, allow_pickle))

    return default


@lru_cache(maxsize=64)
def _default(allow_pickle: bool, meta_signal: Any) -> Callable[[Any], Any]:
    return _make_default(allow_pickle, meta_signal)


def _canonical_order(items: Any, default: Callable[[Any], Any]) -> list[Any]:
    """The elements of a set, ordered by their encoded bytes: the same set is always the same bytes.

    Each set's order is found once per encode (sets nested in sets would otherwise be encoded again
    at every level of the sort, exponentially).
    """
    if len(items) < 2:
        return list(items)
    orders = _local.set_orders
    known = orders.get(id(items))
    if known is not None and known[0] is items:
        return known[1]
    ordered = sorted(items, key=lambda item: _pack_element(item, default))
    orders[id(items)] = (items, ordered)  # the set itself is kept, so its id stays its own
    return ordered


def _pack_element(item: Any, default: Callable[[Any], Any]) -> bytes:
    # A packer of its own: the thread's packer is busy writing the enclosing frame.
    packed: bytes = msgpack.packb(item, default=default, use_bin_type=True, strict_types=True, datetime=False)
    return packed


class _Local(threading.local):
    def __init__(self) -> None:
        self.packers: dict[tuple[bool, Any], Any] = {}
        self.set_orders: dict[int, tuple[Any, list[Any]]] = {}
        self.hashable_containers = 0
        """Tuples and frozensets written by the encode under way: a key nested too deep needs more."""


_local = _Local()


def _packer(allow_pickle: bool, meta_signal: Any) -> Any:
    """This thread's packer under one pickle policy, for one meta-signal enum."""
    key = (allow_pickle, meta_signal)
    packer = _local.packers.get(key)
    if packer is None:
        packer = msgpack.Packer(
            default=_default(allow_pickle, meta_signal), use_bin_type=True, strict_types=True, datetime=False
        )
        _local.packers[key] = packer
    return packer


class _Plan:
    """How the pure backend writes and reads the records of one layout of one generation: the code
    generated for their common case (:mod:`noobwire._core.record_code`), and the general path it hands
    the rest to."""

    def __init__(self, generation: Generation, record: Record) -> None:
        self.generation = generation
        self.record = record
        self.keys = record.keys
        self.datetimes = tuple(i for i, item in enumerate(record.fields) if item.shape is Kind.DATETIME)
        meta = record.meta
        writing = {
            "_general": partial(_record_to_wire, self),
            "_stamp": _datetime_ext,
            "_stamp_checked": _schema_datetime,
            "_epoch": partial(epochs.epoch_to_wire, generation),
        }
        reading: dict[str, Any] = {
            "_general": partial(_record_from_wire, self),
            "_epoch": partial(epochs.epoch_from_wire, generation),
        }
        if meta is not None:
            reading["_meta_checked"] = partial(meta_events.checked, generation, meta)
            reading["_meta_value"] = partial(meta_events.member, generation, meta)
        self.code = record_code(record, writing, reading)


_plans: dict[tuple[int, int], tuple[MessageLayout, _Plan, bool]] = {}


def _plan(generation: Generation, layout: MessageLayout) -> tuple[_Plan, bool]:
    """The plan of a constructed message's records in ``generation``, made once, and whether its value
    is a list of them. (Looked up by identity: a layout's own hash walks all its fields. The entry
    holds both, so their ids stay theirs while it is kept.)"""
    key = (id(generation), id(layout))
    known = _plans.get(key)
    if known is None:
        if len(_plans) >= 256:  # generations bound to the caller's own classes come and go
            _plans.clear()
        known = _plans[key] = (layout, _Plan(generation, layout.record), layout.listed)
    return known[1], known[2]


def _records_to_wire(plan: _Plan, rows: Any, path: str) -> list[list[Any]]:
    """The wire form of a list of records (an event message's value)."""
    if not isinstance(rows, list):
        raise EncodeError(f"expected a list of events, got {type(rows).__qualname__}", path)
    return plan.code.write_all(rows, path, [None, None, None, None])  # (the last datetime and epoch met)


def _record_to_wire(plan: _Plan, row: Any, path: str, cache: list[Any]) -> list[Any]:
    """The general path of a record, for what its generated code does not take: subclasses of the
    schema's types converted, what is wrong named."""
    wire_row = shapes.record_to_wire(plan.generation, plan.record, row, path)
    for i in plan.datetimes:
        wire_row[i] = _schema_datetime(wire_row[i], f"{path}[{plan.keys[i]!r}]")
    return wire_row


def _value_to_wire(generation: Generation, layout: MessageLayout, value: Any) -> Any:
    if not layout.constructed:
        return shapes.value_to_wire(generation, layout.value, value, "value")
    plan, listed = _plan(generation, layout)
    if listed:
        return _records_to_wire(plan, value, "value")
    return plan.code.write_one(value, "value", [None, None, None, None])


def _schema_datetime(value: Any, path: str) -> Timestamp | ExtType:
    if not isinstance(value, datetime):
        raise EncodeError(f"expected datetime, got {type(value).__qualname__}", path)
    try:
        return _datetime_ext(value)
    except Exception as exc:  # its tzinfo's utcoffset() raised, or returned what is not an offset
        kind = type(value).__qualname__
        raise EncodeError(
            f"a {kind} whose UTC offset cannot be read ({type(exc).__name__}: {exc})", path
        ) from exc


def encode(
    msg: Any,
    generation: GenerationLike = REFERENCE,
    options: Options = DEFAULT_OPTIONS,
    out_of_band: OutOfBand | None = None,
) -> bytes:
    """Encode ``msg`` as one frame of ``generation``'s wire format, under the pickle policy and frame
    size of ``options``; with ``out_of_band``, the header frame of a message whose large buffers are
    put in ``out_of_band.buffers``."""
    generation = generation if type(generation) is Generation else as_generation(generation)
    if out_of_band is None:
        return _encoded(msg, generation, options)
    header = _encoded(take_out_of_band(msg, out_of_band, generation), generation, options)
    return finish_header(header, out_of_band, msg, generation, options)


def _encoded(msg: Any, generation: Generation, options: Options) -> bytes:
    """One frame of ``msg`` (whose buffers may be references to frames of their own)."""
    try:
        frame = _frame(msg, generation)
    except EncodeError:
        raise
    except Exception as exc:  # what a field's own type raised (a dict subclass's __getitem__, ...)
        raise EncodeError(
            f"cannot encode this {type(msg).__qualname__} ({type(exc).__name__}: {exc})"
        ) from exc
    layout = generation.messages[frame[1]]
    allow_pickle = options.allow_pickle
    packer = _packer(allow_pickle, generation.meta_signal_enum)
    _local.hashable_containers = 0
    try:
        packed: bytes = packer.pack(frame)
    except Exception as exc:
        packer.reset()
        raise locate_encode_error(
            generation, layout, msg.value, frame[3], exc, lambda obj: try_pack(obj, allow_pickle, generation)
        ) from exc
    finally:
        if _local.set_orders:
            _local.set_orders.clear()
    # msgpack-python's packer writes an empty array or map one level deeper than its unpacker (and
    # the format) allows. Only a frame holding an empty array or map header can be that deep; the
    # count of bytes that could start one rules out most others (it is cheap below 64 KiB; above, the
    # walk is cheap: a large frame is mostly a few large buffers).
    size = len(packed)
    if (
        size > wire.MAX_DEPTH
        and (b"\x90" in packed or b"\x80" in packed)
        and (size > _DEPTH_COUNT_LIMIT or may_nest_deeper(packed, wire.MAX_DEPTH))
        and nests_deeper(frame, wire.MAX_DEPTH)
    ):
        refuse_too_deep(layout, msg.value)
    if size > options.max_frame_size:
        raise EncodeError(
            f"the frame would be {size} bytes, more than this codec's max_frame_size "
            f"({options.max_frame_size})"
        )
    if _local.hashable_containers > extensions.MAX_KEY_DEPTH:
        refuse_too_deep_keys(layout, msg.value)
    if generation.pickle_prefix is not None and not allow_pickle:
        refuse_encoded(packed, msg, generation.pickle_prefix)
    return packed


def _frame(msg: Any, generation: Generation) -> list[Any]:
    """The frame's array, its schema-typed fields checked and converted, its free values as they are."""
    type_name = msg.type_
    try:
        code = generation.type_codes.get(type_name) if isinstance(type_name, str) else None
    except Exception:  # a str subclass whose hash fails
        code = None
    if code is None:
        raise EncodeError(f"unknown message type {describe(type_name)}", "type")
    return [
        generation.version,
        code,
        0,
        as_str(msg.node_id, "node_id"),
        _schema_datetime(msg.timestamp, "timestamp"),
        _value_to_wire(generation, generation.messages[code], msg.value),
    ]


_DEPTH_COUNT_LIMIT = 65536


def pack_value(obj: Any, allow_pickle: bool, generation: Generation = REFERENCE) -> bytes:
    """Write any value (or a whole frame's array) by the format's rules for extensions."""
    packed: bytes = _packer(allow_pickle, generation.meta_signal_enum).pack(obj)
    return packed


def try_pack(obj: Any, allow_pickle: bool, generation: Generation = REFERENCE) -> BaseException | None:
    """The exception writing ``obj`` raises under the pickle policy, or None if it can be written."""
    packer = _packer(allow_pickle, generation.meta_signal_enum)
    try:
        packer.pack(obj)
    except Exception as exc:
        packer.reset()
        return exc
    return None


# --- decoding ----------------------------------------------------------------------------------


class _Marker:
    """What the ext hook returns for a container marker, until the list hook consumes it."""

    __slots__ = ("build", "name")

    def __init__(self, name: str, build: Callable[[list[Any]], Any]) -> None:
        self.name, self.build = name, build


def _build_set(items: list[Any], kind: type) -> Any:
    try:
        return kind(items)
    except TypeError as exc:
        raise DecodeError(f"{kind.__name__} with an unhashable element ({exc})") from None


_TUPLE_MARKER = _Marker("tuple", tuple)
_MARKERS = {
    wire.EXT_TUPLE: _TUPLE_MARKER,
    wire.EXT_SET: _Marker("set", lambda items: _build_set(items, set)),
    wire.EXT_FROZENSET: _Marker("frozenset", lambda items: _build_set(items, frozenset)),
}


def _ext_value(code: int, data: bytes, allow_pickle: bool, meta_signal: Any) -> Any:
    if code in _MARKERS:  # only the marker-aware hook expects these
        raise DecodeError(f"{_MARKERS[code].name} marker with {len(data)} bytes of payload (must be 0)")
    if code == wire.EXT_META_SIGNAL:
        return extensions.meta_signal_from_payload(data, meta_signal)
    if code == wire.EXT_DATETIME:
        return extensions.datetime_from_payload(data)
    if code == wire.EXT_BIGINT:
        return extensions.bigint_from_payload(data)
    if code == wire.EXT_NDARRAY:
        return extensions.ndarray_from_payload(data)
    if code == wire.EXT_PICKLE:
        return extensions.unpickle_payload(data, allow_pickle)
    if code == wire.EXT_EXCEPTION_TYPE:
        return extensions.exception_type_from_payload(data, allow_pickle)
    if code in wire.OUT_OF_BAND_EXT_CODES:
        return _out_of_band_value(code, data)
    raise DecodeError(f"unknown extension type {code}")


class _Receiving(threading.local):
    buffers: ReceivedBuffers | None = None
    """The buffer frames of the header this thread is reading, if it has any."""


_receiving = _Receiving()


def _out_of_band_value(code: int, data: bytes) -> Any:
    received = _receiving.buffers
    if received is None:
        raise DecodeError(
            f"out-of-band buffer reference (extension {code}) in a single frame "
            "(decode the frames of a message with buffers with noobwire.decode_frames)"
        )
    return received.resolve(code, data)


def _unpack_referring_to(
    buf: Any, received: ReceivedBuffers, options: Options, generation: Generation
) -> Any:
    """Unpack a header frame, as ``unpack`` does, its references resolving to the frames of ``received``."""
    outer = _receiving.buffers
    _receiving.buffers = received
    try:
        return unpack(buf, options, generation)
    finally:
        _receiving.buffers = outer


_MARKER_HEADER = b"\xc7\x00"
"""How a zero-length extension (a container marker) starts when it is written canonically."""


_SEARCH_LIMIT = 65536


class _MarkerFound(Exception):
    """A frame with no canonical marker header holds a marker written in a longer form."""


def unpack(buf: Any, options: Options = DEFAULT_OPTIONS, generation: Generation = REFERENCE) -> Any:
    """Unpack a whole frame (or any value), turning container markers into tuples, sets and frozensets."""
    # The list hook costs a call per array; small frames without markers (most) are read without it.
    # (The search costs about a nanosecond a byte: a large frame, mostly a few big buffers, is cheaper
    # to read with the hook.) A foreign encoder may write a marker in a longer form (c8 00 00 ..):
    # such a frame is read again.
    size = len(buf)
    if may_presize_beyond(buf) and not is_whole(buf):
        # msgpack-python presizes each list from its declared count: nested counts that only the
        # frame's length bounds would add up to 1024 times the frame before it finds them missing.
        raise _malformed(buf, options, None)
    limits = _length_limits(size, options.max_length) if options.max_length < size else None
    meta_signal = generation.meta_signal_enum
    if type(buf) is bytes and size <= _SEARCH_LIMIT and _MARKER_HEADER not in buf:
        try:
            return _unpack_with(buf, _ext_hook(options.allow_pickle, meta_signal), None, limits, options)
        except _MarkerFound:
            if _receiving.buffers is not None:
                _receiving.buffers.forget_references()  # they are resolved again
    return _unpack_with_markers(buf, limits, options, meta_signal)


def _length_limits(size: int, max_length: int) -> dict[str, int]:
    """msgpack-python's length limits for a frame of ``size`` bytes under ``max_length``."""
    return {
        "max_str_len": max_length,
        "max_bin_len": max_length,
        "max_ext_len": max_length,
        "max_array_len": max_length,
        "max_map_len": min(max_length, size // 2),
    }


@lru_cache(maxsize=64)
def _ext_hook(allow_pickle: bool, meta_signal: Any) -> Callable[[int, bytes], Any]:
    """The ext hook of a frame without canonical marker headers."""

    def ext_hook(code: int, data: bytes) -> Any:
        if code in _MARKERS and not data:
            raise _MarkerFound
        value = _ext_value(code, data, allow_pickle, meta_signal)
        if code in _MAY_FLOOD and extensions.is_floodable(value):
            raise _MarkerFound  # a key of chosen hash: read again, the keys watched
        return value

    return ext_hook


_MAY_FLOOD = frozenset((wire.EXT_BIGINT, wire.EXT_NDARRAY))
"""The extensions whose value may be a key of chosen hash (a big int, a numpy scalar)."""


def _unpack_with_markers(buf: Any, limits: dict[str, int] | None, options: Options, meta_signal: Any) -> Any:
    """Unpack a frame turning container markers into tuples, sets and frozensets, each map's keys and
    each set's elements checked (``extensions.check_hashes``) before they fill it."""
    allow_pickle = options.allow_pickle
    open_markers = 0

    def ext_hook(code: int, data: bytes) -> Any:
        nonlocal open_markers
        marker = _MARKERS.get(code)
        if marker is None:
            return _ext_value(code, data, allow_pickle, meta_signal)
        if data:
            raise DecodeError(f"{marker.name} marker with {len(data)} bytes of payload (must be 0)")
        open_markers += 1
        return marker

    def list_hook(items: list[Any]) -> Any:
        nonlocal open_markers
        if items and type(items[0]) is _Marker:
            open_markers -= 1
            marker = items[0]
            if marker is not _TUPLE_MARKER:  # a set's elements, before they fill it
                extensions.refuse_deep_keys(items[1:])
                if len(items) > extensions.MAX_SHARED_HASH + 1:
                    extensions.check_hashes(items[1:])
            return marker.build(items[1:])
        return items

    obj = _unpack_with(buf, ext_hook, list_hook, limits, options, _keys_checked)
    if open_markers:
        raise DecodeError("a tuple, set or frozenset marker that does not open an array")
    return obj


def _keys_checked(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A map's dict, built from its entries once their keys have passed ``extensions.refuse_deep_keys`` and
    ``extensions.check_hashes``."""
    keys = [key for key, _ in pairs]
    extensions.refuse_deep_keys(keys)
    if len(pairs) > extensions.MAX_SHARED_HASH:
        extensions.check_hashes(keys)
    return dict(pairs)


def _unpack_with(
    buf: Any,
    ext_hook: Callable[[int, bytes], Any],
    list_hook: Callable[[list[Any]], Any] | None,
    limits: dict[str, int] | None,
    options: Options,
    pairs_hook: Callable[[list[tuple[Any, Any]]], Any] | None = None,
) -> Any:
    """Unpack ``buf`` with msgpack-python; ``limits`` are its length limits, if ``max_length`` is below
    the frame's size (otherwise its own default, the frame's size, applies)."""
    try:
        if limits is None and pairs_hook is None:  # (an empty ** costs a tenth of a small frame's decoding)
            return msgpack.unpackb(
                buf, ext_hook=ext_hook, list_hook=list_hook, raw=False, strict_map_key=False, timestamp=3
            )
        return msgpack.unpackb(
            buf,
            ext_hook=ext_hook,
            list_hook=list_hook,
            object_pairs_hook=pairs_hook,
            raw=False,
            strict_map_key=False,
            timestamp=3,
            **(limits or {}),
        )
    except (DecodeError, _MarkerFound, RecursionError):  # (the caller's stack, not the frame's fault)
        raise
    except Exception as exc:
        raise _malformed(buf, options, exc) from None


def _malformed(buf: Any, options: Options, error: Exception | None) -> DecodeError:
    """The error for a frame that msgpack-python cannot read (or that is not whole): where it goes
    wrong, or else what msgpack-python said."""
    located = locate_malformation(buf, options.max_depth, options.max_length)
    if located is not None:
        return located
    if error is None:
        return DecodeError("malformed MessagePack (a container or value declares more than the frame holds)")
    return DecodeError(f"malformed MessagePack ({type(error).__name__}: {error})")


def _records_from_wire(plan: _Plan, value: Any) -> list[dict[str, Any]]:
    if type(value) is not list:
        raise SchemaError(f"the value of an event message must be an array of {plan.record.name}s")
    rows: list[dict[str, Any]] = plan.code.read_all(
        value, [None, None]
    )  # (the last root epoch read, and its object)
    epochs.refuse_shared_hashes(plan.generation, plan.record, rows)
    return rows


def _record_from_wire(plan: _Plan, row: Any, what: str, cache: list[Any], index: int) -> dict[str, Any]:
    """The general path of a record, for what its generated code does not take: each field checked
    (what is wrong named), its epochs made, the meta-event rule applied."""
    record = shapes.record_from_wire(plan.generation, plan.record, row, what)
    meta_events.apply_rules(plan.generation, plan.record, record, index)
    return record


def _value_from_wire(generation: Generation, layout: MessageLayout, value: Any) -> Any:
    plan, listed = _plan(generation, layout)
    if listed:
        return _records_from_wire(plan, value)
    return plan.code.read_one(value, [None, None])


def decode_frame(
    buf: Any,
    generation: GenerationLike = REFERENCE,
    options: Options = DEFAULT_OPTIONS,
    buffers: ReceivedBuffers | None = None,
) -> Any:
    """Decode one non-empty MessagePack frame (a buffer) of ``generation`` (or, given a dict of classes,
    of the reference building those classes), under the pickle policy and limits of ``options``; with
    ``buffers``, the header frame of a message whose buffer frames they are."""
    generation = generation if type(generation) is Generation else as_generation(generation)
    check_frame_size(len(buf), options)
    if type(buf) is not bytes and len(buf) <= _SEARCH_LIMIT:
        buf = bytes(buf)  # (a small frame is read faster from bytes: see unpack)
    check_prefix(buf, generation)
    frame = (
        unpack(buf, options, generation)
        if buffers is None
        else _unpack_referring_to(buf, buffers, options, generation)
    )
    if options.max_depth < _MAX_DEPTH and len(buf) > options.max_depth:
        check_depth(buf, options.max_depth)  # on the bytes: duplicate keys hide levels in the objects
    _, code, n_buffers, node_id, timestamp, value = frame
    if type(code) is not int or not 0 <= code < len(generation.messages):
        raise SchemaError(f"unknown message type code {describe(code)}")
    if type(n_buffers) is not int or n_buffers != (0 if buffers is None else len(buffers)):
        raise _n_buffers_error(n_buffers, buffers)
    if type(node_id) is not str:
        raise SchemaError(f"node_id must be a str, not {type(node_id).__qualname__}")
    if type(timestamp) is not datetime:
        raise SchemaError(f"timestamp must be a timestamp, not {type(timestamp).__qualname__}")
    layout = generation.messages[code]
    cls = generation.classes[layout.type]
    if layout.constructed:
        value = _value_from_wire(generation, layout, value)
    else:
        value = shapes.value_from_wire(generation, layout.value, value)
    prefix = generation.pickle_prefix
    if prefix is not None and not options.allow_pickle:
        refuse_decoded(buf, buffers is not None, node_id, value, prefix)
    if layout.constructed:
        return shapes.construct_message(cls, layout.type, node_id, timestamp, value)
    return validate_control_message(cls, layout.type, node_id, timestamp, value)


def _n_buffers_error(n_buffers: Any, received: ReceivedBuffers | None) -> DecodeError:
    if received is None:
        return DecodeError(
            f"the frame refers to {describe(n_buffers)} out-of-band buffers; it is not a single frame "
            "(decode the frames of a message with buffers with noobwire.decode_frames)"
        )
    return DecodeError(f"the header counts {describe(n_buffers)} buffer frames, {len(received)} were given")


def decode(data: Any, generation: GenerationLike = REFERENCE, options: Options = DEFAULT_OPTIONS) -> Any:
    """Decode a noobwire MessagePack frame or a legacy JSON frame (see :func:`noobwire.decode`)."""
    generation = generation if type(generation) is Generation else as_generation(generation)
    buf = frame_to_decode(data, options)
    if is_json(buf):
        msg = decode_json(buf, generation, options)
        written_again(msg, encode, generation, options)
        return msg
    return decode_frame(buf, generation, options)
