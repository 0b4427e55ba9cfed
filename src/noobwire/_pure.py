"""The pure-Python backend: wire format v1 on msgpack-python.

It is the twin of the compiled backend: the same functions, the same bytes, the same rejections.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgpack
from msgpack import ExtType, Timestamp

from noobwire import values, wire
from noobwire.buffers import OutOfBand, ReceivedBuffers, encode_with_buffers
from noobwire.errors import DecodeError, EncodeError, SchemaError, describe
from noobwire.framing import (
    CONTAINER_TYPES,
    check_depth,
    check_prefix,
    frame_too_large,
    is_whole,
    locate_malformation,
    may_nest_deeper,
    may_presize_beyond,
    nests_deeper,
)
from noobwire.messages import MESSAGE_CLASSES, Message, MetaSignal
from noobwire.options import DEFAULT_OPTIONS, Options
from noobwire.routing import decode_any
from noobwire.schema import (
    as_int,
    as_optional_dict,
    as_str,
    construct_message,
    control_value_to_wire,
    validate_control_message,
)

__all__ = [
    "decode",
    "decode_frame",
    "encode",
    "encode_error",
    "locate_unencodable",
    "pack_value",
    "try_pack",
]

_NOEVENT = MetaSignal.NoEvent
_new_object = object.__new__
_TUPLE = ExtType(wire.EXT_TUPLE, b"")
_SET = ExtType(wire.EXT_SET, b"")
_FROZENSET = ExtType(wire.EXT_FROZENSET, b"")
_NOEVENT_EXT = ExtType(wire.EXT_NOEVENT, b"")
_EVENT = wire.EVENT_CODE
_MAX_DEPTH = wire.MAX_DEPTH
_PROCESS = wire.PROCESS_CODE

# --- encoding ----------------------------------------------------------------------------------


def _timestamp(seconds: int, nanoseconds: int) -> Timestamp:
    # Timestamp.__init__ re-checks what is true by construction; skipping it halves the cost.
    stamp = _new_object(Timestamp)
    stamp.seconds = seconds
    stamp.nanoseconds = nanoseconds
    return stamp


def _datetime_ext(dt: datetime) -> Timestamp | ExtType:
    if dt.tzinfo is UTC:
        delta = dt - values.EPOCH
        return _timestamp(delta.days * 86400 + delta.seconds, delta.microseconds * 1000)
    seconds, nanoseconds, offset_us = values.datetime_parts(dt)
    if offset_us == 0:
        return _timestamp(seconds, nanoseconds)
    return ExtType(wire.EXT_DATETIME, values.datetime_payload(seconds, nanoseconds, offset_us, dt.fold))


def _make_default(allow_pickle: bool) -> Callable[[Any], Any]:
    """The packer's ``default`` under one pickle policy."""

    def default(obj: Any) -> Any:
        """Called by the packer for every value that is not exactly a MessagePack type."""
        kind = type(obj)
        if obj is _NOEVENT:
            return _NOEVENT_EXT
        if kind is tuple:
            return [_TUPLE, *obj]
        if kind is set:
            return [_SET, *_canonical_order(obj, default)]
        if kind is frozenset:
            return [_FROZENSET, *_canonical_order(obj, default)]
        if kind is datetime:
            return _datetime_ext(obj)
        if kind is int:  # only ints outside [-2**63, 2**64) get here
            return ExtType(wire.EXT_BIGINT, values.bigint_payload(obj))
        if isinstance(obj, type) and issubclass(obj, BaseException):
            return ExtType(wire.EXT_EXCEPTION_TYPE, values.exception_type_payload(obj, allow_pickle))
        if values.is_numpy_value(obj):
            payload = values.ndarray_payload(obj)
            if payload is not None:
                return ExtType(wire.EXT_NDARRAY, payload)
        return ExtType(wire.EXT_PICKLE, values.pickle_payload(obj, allow_pickle))

    return default


_DEFAULTS = {True: _make_default(True), False: _make_default(False)}
"""The packer's ``default`` for each pickle policy (``allow_pickle``)."""


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


def _packer(allow_pickle: bool) -> Any:
    return msgpack.Packer(
        default=_DEFAULTS[allow_pickle], use_bin_type=True, strict_types=True, datetime=False
    )


class _Local(threading.local):
    def __init__(self) -> None:
        self.packers = {True: _packer(True), False: _packer(False)}
        self.packer = self.packers[True]
        self.set_orders: dict[int, tuple[Any, list[Any]]] = {}


_local = _Local()


def _schema_datetime(value: Any, path: str) -> Timestamp | ExtType:
    if not isinstance(value, datetime):
        raise EncodeError(f"expected datetime, got {type(value).__qualname__}", path)
    try:
        return _datetime_ext(value)
    except Exception as exc:  # its tzinfo's utcoffset() raised, or returned what is not an offset
        raise _datetime_error(value, path, exc) from exc


def _datetime_error(value: datetime, path: str, error: Exception) -> EncodeError:
    kind = type(value).__qualname__
    return EncodeError(f"a {kind} whose UTC offset cannot be read ({type(error).__name__}: {error})", path)


def _events_to_wire(events: Any) -> list[list[Any]]:
    if not isinstance(events, list):
        raise EncodeError(f"expected a list of events, got {type(events).__qualname__}", "value")
    wire_events = []
    # The events of one process call share one timestamp object: convert it once.
    last_timestamp: Any = None
    last_ext: Any = None
    for index, event in enumerate(events):
        try:
            event_id = event["id"]
            timestamp = event["timestamp"]
            node_id = event["node_id"]
            signal = event["signal"]
            epoch = event["epoch"]
            value = event["value"]
        except Exception:  # not an event dict: the slow path says what is wrong
            event_id = None
        # Exact types take the fast path (the decoder inlines the same check: a call per event
        # would cost more than the check).
        if (
            type(event_id) is int
            and type(epoch) is int
            and type(node_id) is str
            and type(signal) is str
            and type(timestamp) is datetime
        ):
            if timestamp is not last_timestamp:
                try:
                    last_ext = _datetime_ext(timestamp)
                except Exception as exc:
                    raise _datetime_error(timestamp, f"value[{index}]['timestamp']", exc) from exc
                last_timestamp = timestamp
            wire_events.append([event_id, last_ext, node_id, signal, epoch, value])
        else:
            wire_events.append(_event_to_wire_checked(event, f"value[{index}]"))
    return wire_events


def _event_to_wire_checked(event: Any, path: str) -> list[Any]:
    """The slow path of ``_events_to_wire`` for one event: converts subclasses of the schema's types,
    and names the path of what is wrong."""
    if not isinstance(event, dict):
        raise EncodeError(f"expected an event dict, got {type(event).__qualname__}", path)
    try:
        fields = [event[key] for key in wire.EVENT_FIELDS]
    except KeyError as exc:
        raise EncodeError(f"missing key {describe(exc.args[0])}", path) from None
    except Exception as exc:  # a dict subclass whose __getitem__ fails
        raise EncodeError(f"cannot read the event ({type(exc).__name__}: {exc})", path) from exc
    event_id, timestamp, node_id, signal, epoch, value = fields
    return [
        as_int(event_id, f"{path}['id']"),
        _schema_datetime(timestamp, f"{path}['timestamp']"),
        as_str(node_id, f"{path}['node_id']"),
        as_str(signal, f"{path}['signal']"),
        as_int(epoch, f"{path}['epoch']"),
        value,
    ]


def _process_to_wire(value: Any) -> list[Any]:
    if not isinstance(value, dict):
        raise EncodeError(f"expected a dict, got {type(value).__qualname__}", "value")
    try:
        epoch, process_input = value["epoch"], value["input"]
    except KeyError as exc:
        raise EncodeError(f"missing key {describe(exc.args[0])}", "value") from None
    return [as_int(epoch, "value['epoch']"), as_optional_dict(process_input, "value['input']")]


def _wire_value(code: int, type_name: str, value: Any) -> Any:
    if code == _EVENT:
        return _events_to_wire(value)
    if code == _PROCESS:
        return _process_to_wire(value)
    return control_value_to_wire(type_name, value)


def encode(msg: Message, options: Options = DEFAULT_OPTIONS, out_of_band: OutOfBand | None = None) -> bytes:
    """Encode ``msg`` as one wire-format frame, under the pickle policy and frame size of ``options``;
    with ``out_of_band``, the header frame of a message whose large buffers are put in
    ``out_of_band.buffers``."""
    if out_of_band is not None:
        return encode_with_buffers(encode, msg, options, out_of_band)
    try:
        frame = _frame(msg)
    except EncodeError:
        raise
    except Exception as exc:  # what a field's own type raised (a dict subclass's __getitem__, ...)
        raise EncodeError(
            f"cannot encode this {type(msg).__qualname__} ({type(exc).__name__}: {exc})"
        ) from exc
    code = frame[1]
    local = _local
    allow_pickle = options.allow_pickle
    packer = local.packer if allow_pickle else local.packers[False]
    try:
        packed: bytes = packer.pack(frame)
    except Exception as exc:
        packer.reset()
        raise _locate_encode_error(msg, frame, exc, allow_pickle) from exc
    finally:
        if local.set_orders:
            local.set_orders.clear()
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
        _refuse_too_deep(code, msg.value)
    if len(packed) > options.max_frame_size:
        raise EncodeError(
            f"the frame would be {len(packed)} bytes, more than this codec's max_frame_size "
            f"({options.max_frame_size})"
        )
    return packed


def _frame(msg: Message) -> list[Any]:
    """The frame's array, its schema-typed fields checked and converted, its free values as they are."""
    type_name = msg.type_
    try:
        code = wire.TYPE_CODES.get(type_name)
    except Exception:  # unhashable, or a str subclass whose hash fails
        code = None
    if code is None:
        raise EncodeError(f"unknown message type {describe(type_name)}", "type")
    return [
        wire.VERSION,
        code,
        0,
        as_str(msg.node_id, "node_id"),
        _schema_datetime(msg.timestamp, "timestamp"),
        _wire_value(code, type_name, msg.value),
    ]


_DEPTH_COUNT_LIMIT = 65536
_FREE_VALUE_DEPTH = {_EVENT: 4, _PROCESS: 3}
"""The nesting level of a message's free values, the frame's array being level 1."""


def _refuse_too_deep(code: int, value: Any) -> None:
    """Raise :class:`EncodeError` if a free value holds an array or map deeper than the limit."""
    start = _FREE_VALUE_DEPTH.get(code, 4)  # an error's arguments sit at level 4
    for path, free in _free_values(code, value):
        if _max_container_depth(free, start) > wire.MAX_DEPTH:
            kind = type(free).__qualname__
            raise EncodeError(f"a {kind} nested deeper than {wire.MAX_DEPTH} levels (or cyclic)", path)


def _max_container_depth(obj: Any, depth: int) -> int:
    """The level of the deepest array or map in ``obj`` (which sits at ``depth``), as written."""
    deepest = 0
    stack = [(obj, depth)]
    while stack:
        obj, depth = stack.pop()
        kind = type(obj)
        if kind not in CONTAINER_TYPES:
            continue
        deepest = max(deepest, depth)
        if depth > wire.MAX_DEPTH:
            return depth
        children = [*obj.keys(), *obj.values()] if kind is dict else obj
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _locate_encode_error(msg: Message, frame: list[Any], error: Exception, allow_pickle: bool) -> EncodeError:
    """Something in the message cannot be written: find it and say where it is."""

    def try_pack_here(obj: Any) -> BaseException | None:
        return try_pack(obj, allow_pickle)

    node_id_error = try_pack_here(frame[3])
    if node_id_error is not None:
        return encode_error(node_id_error, "node_id", frame[3])
    if _is_too_deep(error):
        try:
            _refuse_too_deep(frame[1], msg.value)
        except EncodeError as too_deep:
            return too_deep
    # Start from the values the schema leaves free, so that a value nested too deep is named by
    # where it sits in the message rather than by the message's own nesting.
    for path, value in _free_values(frame[1], msg.value):
        if try_pack_here(value) is not None:
            path, leaf, leaf_error = locate_unencodable(value, path, try_pack_here)
            return encode_error(leaf_error or error, path, leaf)
    path, leaf, leaf_error = locate_unencodable(msg.value, "value", try_pack_here)
    return encode_error(leaf_error or error, path, leaf)


def _free_values(code: int, value: Any) -> list[tuple[str, Any]]:
    """The Any-typed values of a message's value, with their paths."""
    if code == _EVENT and isinstance(value, list):
        return [(f"value[{i}]['value']", e["value"]) for i, e in enumerate(value) if isinstance(e, dict)]
    if code == _PROCESS and isinstance(value, dict):
        return [("value['input']", value.get("input"))]
    if isinstance(value, dict) and isinstance(value.get("err_args"), tuple | list):
        return [(f"value['err_args'][{i}]", arg) for i, arg in enumerate(value["err_args"])]
    return []


def pack_value(obj: Any, allow_pickle: bool) -> bytes:
    """Write any value (or a whole frame's array) by the format's rules for values."""
    packed: bytes = _local.packers[allow_pickle].pack(obj)
    return packed


def try_pack(obj: Any, allow_pickle: bool) -> BaseException | None:
    """The exception writing ``obj`` raises under the pickle policy, or None if it can be written."""
    packer = _local.packers[allow_pickle]
    try:
        packer.pack(obj)
    except Exception as exc:
        packer.reset()
        return exc
    return None


def _children(obj: Any) -> list[tuple[str, Any]]:
    kind = type(obj)
    if kind is list or kind is tuple:
        return [(f"[{i}]", item) for i, item in enumerate(obj)]
    if kind is dict:
        found: list[tuple[str, Any]] = []
        for key, item in obj.items():
            found.append((f" (key {describe(key)})", key))
            found.append((f"[{describe(key)}]", item))
        return found
    if kind is set or kind is frozenset:
        return [(" (an element)", item) for item in obj]
    return []


def locate_unencodable(
    obj: Any, path: str, try_pack: Callable[[Any], BaseException | None]
) -> tuple[str, Any, BaseException | None]:
    """Find the innermost value under ``obj`` that ``try_pack`` fails on: its path, itself, its error.

    Only called once encoding has failed, so the cost of trying each child again does not matter.
    A value nested too deep (or cyclic) is reported where the descent starts.
    """
    error = try_pack(obj)
    while error is not None and not _is_too_deep(error):
        for step, child in _children(obj):
            child_error = try_pack(child)
            if child_error is not None:
                obj, path, error = child, path + step, child_error
                break
        else:
            break
    return path, obj, error


def _is_too_deep(error: BaseException) -> bool:
    return isinstance(error, ValueError) and "recursion limit" in str(error)


def encode_error(error: BaseException, path: str, value: Any) -> EncodeError:
    """The :class:`EncodeError` for the exception ``value`` raised when it was written."""
    if isinstance(error, EncodeError):
        return EncodeError(error.reason, path)
    kind = type(value).__qualname__
    if isinstance(error, UnicodeEncodeError):
        return EncodeError(f"a {kind} that is not valid UTF-8 (it holds a lone surrogate)", path)
    if _is_too_deep(error):
        return EncodeError(f"a {kind} nested deeper than {wire.MAX_DEPTH} levels (or cyclic)", path)
    return EncodeError(f"cannot encode a {kind} ({type(error).__name__}: {error})", path)


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
_FROZENSET_MARKER = _Marker("frozenset", lambda items: _build_set(items, frozenset))
_MARKERS = {
    wire.EXT_TUPLE: _TUPLE_MARKER,
    wire.EXT_SET: _Marker("set", lambda items: _build_set(items, set)),
    wire.EXT_FROZENSET: _FROZENSET_MARKER,
}


def _ext_value(code: int, data: bytes, allow_pickle: bool) -> Any:
    if code in _MARKERS:  # only the marker-aware hook expects these
        raise DecodeError(f"{_MARKERS[code].name} marker with {len(data)} bytes of payload (must be 0)")
    if code == wire.EXT_NOEVENT:
        if data:
            raise DecodeError(f"NoEvent extension with {len(data)} bytes of payload (must be 0)")
        return _NOEVENT
    if code == wire.EXT_DATETIME:
        return values.datetime_from_payload(data)
    if code == wire.EXT_BIGINT:
        return values.bigint_from_payload(data)
    if code == wire.EXT_NDARRAY:
        return values.ndarray_from_payload(data)
    if code == wire.EXT_PICKLE:
        return values.unpickle_payload(data, allow_pickle)
    if code == wire.EXT_EXCEPTION_TYPE:
        return values.exception_type_from_payload(data, allow_pickle)
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


def _unpack_referring_to(buf: Any, received: ReceivedBuffers, options: Options) -> Any:
    """Unpack a header frame, as ``_unpack`` does, its references resolving to the frames of ``received``."""
    outer = _receiving.buffers
    _receiving.buffers = received
    try:
        return _unpack(buf, options)
    finally:
        _receiving.buffers = outer


_MARKER_HEADER = b"\xc7\x00"
"""How a zero-length extension (a container marker) starts when it is written canonically."""


_SEARCH_LIMIT = 65536


class _MarkerFound(Exception):
    """A frame with no canonical marker header holds a marker written in a longer form."""


def _unpack(buf: Any, options: Options = DEFAULT_OPTIONS) -> Any:
    """Unpack a whole frame, turning container markers into tuples, sets and frozensets."""
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
    if type(buf) is bytes and size <= _SEARCH_LIMIT and _MARKER_HEADER not in buf:
        try:
            ext_hook = _EXT_HOOK if options.allow_pickle else _EXT_HOOK_WITHOUT_PICKLE
            return _unpack_with(buf, ext_hook, None, limits, options)
        except _MarkerFound:
            if _receiving.buffers is not None:
                _receiving.buffers.forget_references()  # they are resolved again
    return _unpack_with_markers(buf, limits, options)


def _length_limits(size: int, max_length: int) -> dict[str, int]:
    """msgpack-python's length limits for a frame of ``size`` bytes under ``max_length``."""
    return {
        "max_str_len": max_length,
        "max_bin_len": max_length,
        "max_ext_len": max_length,
        "max_array_len": max_length,
        "max_map_len": min(max_length, size // 2),
    }


def _ext_hook_without_markers(allow_pickle: bool) -> Callable[[int, bytes], Any]:
    def ext_hook(code: int, data: bytes) -> Any:
        if code in _MARKERS and not data:
            raise _MarkerFound
        value = _ext_value(code, data, allow_pickle)
        if code in _MAY_FLOOD and values.is_floodable(value):
            raise _MarkerFound  # a key of chosen hash: read again, the keys watched
        return value

    return ext_hook


_MAY_FLOOD = frozenset((wire.EXT_BIGINT, wire.EXT_NDARRAY))
"""The extensions whose value may be a key of chosen hash (a big int, a numpy scalar)."""


_EXT_HOOK = _ext_hook_without_markers(True)
"""The ext hook of a frame without canonical marker headers, with pickle on."""
_EXT_HOOK_WITHOUT_PICKLE = _ext_hook_without_markers(False)


def _unpack_with_markers(buf: Any, limits: dict[str, int] | None, options: Options) -> Any:
    """Unpack a frame turning container markers into tuples, sets and frozensets, each map's keys and
    each set's elements checked (``values.check_hashes``) before they fill it."""
    allow_pickle = options.allow_pickle
    open_markers = 0

    def ext_hook(code: int, data: bytes) -> Any:
        nonlocal open_markers
        marker = _MARKERS.get(code)
        if marker is None:
            return _ext_value(code, data, allow_pickle)
        if data:
            raise DecodeError(f"{marker.name} marker with {len(data)} bytes of payload (must be 0)")
        open_markers += 1
        return marker

    def list_hook(items: list[Any]) -> Any:
        nonlocal open_markers
        if items and type(items[0]) is _Marker:
            open_markers -= 1
            marker = items[0]
            if marker is not _TUPLE_MARKER and len(items) > values.MAX_SHARED_HASH + 1:
                values.check_hashes(items[1:])  # a set's elements, before they fill it
            return marker.build(items[1:])
        return items

    obj = _unpack_with(buf, ext_hook, list_hook, limits, options, _keys_checked)
    if open_markers:
        raise DecodeError("a tuple, set or frozenset marker that does not open an array")
    return obj


def _keys_checked(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A map's dict, built from its entries once their keys have passed ``values.check_hashes``."""
    if len(pairs) > values.MAX_SHARED_HASH:
        values.check_hashes([key for key, _ in pairs])
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
    except (DecodeError, _MarkerFound):
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


def _check_int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise SchemaError(f"{what} must be an int, not {type(value).__qualname__}")
    return value


def _check_str(value: Any, what: str) -> str:
    if type(value) is not str:
        raise SchemaError(f"{what} must be a str, not {type(value).__qualname__}")
    return value


def _check_datetime(value: Any, what: str) -> datetime:
    if type(value) is not datetime:
        raise SchemaError(f"{what} must be a timestamp, not {type(value).__qualname__}")
    return value


def _events_from_wire(value: Any) -> list[dict[str, Any]]:
    if type(value) is not list:
        raise SchemaError("the value of an event message must be an array of events")
    events = []
    for event in value:
        if type(event) is list and len(event) == 6:
            event_id, timestamp, node_id, signal, epoch, event_value = event
            if (
                type(event_id) is int
                and type(epoch) is int
                and type(node_id) is str
                and type(signal) is str
                and type(timestamp) is datetime
            ):
                events.append(
                    {
                        "id": event_id,
                        "timestamp": timestamp,
                        "node_id": node_id,
                        "signal": signal,
                        "epoch": epoch,
                        "value": event_value,
                    }
                )
                continue
        _reject_event(event, len(events))
    return events


def _reject_event(event: Any, index: int) -> None:
    """Raise the :class:`SchemaError` that says what is wrong with event ``index``."""
    if type(event) is not list or len(event) != len(wire.EVENT_FIELDS):
        raise SchemaError(f"event {index} must be an array of 6 fields {list(wire.EVENT_FIELDS)}")
    event_id, timestamp, node_id, signal, epoch, _ = event
    _check_int(event_id, f"event {index} id")
    _check_datetime(timestamp, f"event {index} timestamp")
    _check_str(node_id, f"event {index} node_id")
    _check_str(signal, f"event {index} signal")
    _check_int(epoch, f"event {index} epoch")


def _process_from_wire(value: Any) -> dict[str, Any]:
    if type(value) is not list or len(value) != len(wire.PROCESS_FIELDS):
        raise SchemaError("the value of a process message must be an array [epoch, input]")
    epoch, process_input = value
    if process_input is not None and type(process_input) is not dict:
        raise SchemaError(f"process input must be a map or nil, not {type(process_input).__qualname__}")
    return {"epoch": _check_int(epoch, "process epoch"), "input": process_input}


def decode_frame(
    buf: Any,
    classes: dict[str, type[Message]] = MESSAGE_CLASSES,
    options: Options = DEFAULT_OPTIONS,
    buffers: ReceivedBuffers | None = None,
) -> Message:
    """Decode one non-empty MessagePack frame (a buffer) into a message of ``classes``, under the
    pickle policy and limits of ``options``; with ``buffers``, the header frame of a message whose
    buffer frames they are."""
    if len(buf) > options.max_frame_size:
        raise frame_too_large(len(buf), options.max_frame_size)
    if type(buf) is not bytes and len(buf) <= _SEARCH_LIMIT:
        buf = bytes(buf)  # (a small frame is read faster from bytes: see _unpack)
    check_prefix(buf)
    frame = _unpack(buf, options) if buffers is None else _unpack_referring_to(buf, buffers, options)
    if options.max_depth < _MAX_DEPTH and len(buf) > options.max_depth:
        check_depth(buf, options.max_depth)  # on the bytes: duplicate keys hide levels in the objects
    _, code, n_buffers, node_id, timestamp, value = frame
    if type(code) is not int or not 0 <= code < len(wire.MESSAGE_TYPES):
        raise SchemaError(f"unknown message type code {describe(code)}")
    if type(n_buffers) is not int or n_buffers != (0 if buffers is None else len(buffers)):
        raise _n_buffers_error(n_buffers, buffers)
    _check_str(node_id, "node_id")
    _check_datetime(timestamp, "timestamp")
    type_name = wire.MESSAGE_TYPES[code]
    cls = classes[type_name]
    if code == _EVENT:
        return construct_message(cls, type_name, node_id, timestamp, _events_from_wire(value))
    if code == _PROCESS:
        return construct_message(cls, type_name, node_id, timestamp, _process_from_wire(value))
    return validate_control_message(cls, type_name, node_id, timestamp, value)


def _n_buffers_error(n_buffers: Any, received: ReceivedBuffers | None) -> DecodeError:
    if received is None:
        return DecodeError(
            f"the frame refers to {describe(n_buffers)} out-of-band buffers; it is not a single frame "
            "(decode the frames of a message with buffers with noobwire.decode_frames)"
        )
    return DecodeError(f"the header counts {describe(n_buffers)} buffer frames, {len(received)} were given")


def decode(
    data: Any, classes: dict[str, type[Message]] = MESSAGE_CLASSES, options: Options = DEFAULT_OPTIONS
) -> Message:
    """Decode a noobwire MessagePack frame or a legacy JSON frame (see :func:`noobwire.decode`)."""
    return decode_any(data, classes, options, decode_frame)
