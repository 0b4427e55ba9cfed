"""The compiled backend against its pure twin: the same bytes out, the same messages or errors back.

The compiled backend asks the pure one to explain a message or frame it refuses, so an error is the
same error on both by construction. What these tests pin down is everything else: that the compiled
path itself writes the pure bytes and reads the pure messages, without handing valid input over (a
recorder on the pure functions sees every hand-over), and that it refuses exactly what pure refuses.
"""

from __future__ import annotations

import gc
import os
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

import noobwire
from helpers import V2_REJECTED, V2_VECTORS, VECTORS, assert_same, handovers
from hostile import event_frame
from noobwire import Message, wire
from noobwire._core import extensions, pure
from noobwire._core.extensions import MAX_KEY_DEPTH
from noobwire.bench.workloads import WORKLOADS, make_workload, workload_generation
from noobwire.generations import REFERENCE
from noobwire.messages import MESSAGE_CLASSES
from noobwire.options import Options
from strategies import frames, messages, values

compiled_module = pytest.importorskip("noobwire._core.compiled", reason="the compiled extension is not built")

HOT_TYPES = ("event", "process")
EVENT_KEYS = ("id", "timestamp", "node_id", "signal", "epoch", "value")
VECTOR_FRAMES = [bytes.fromhex(vector["hex"]) for vector in VECTORS.values()]


def outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    """What a call returns, or the type and text of what it raises."""
    try:
        return "ok", function()
    except Exception as exc:  # the kind of failure is what is compared
        return type(exc).__name__, str(exc)


def assert_same_outcome(compiled: tuple[str, Any], pure: tuple[str, Any]) -> None:
    # The compiled backend's last resort when the twins disagree: no input may ever reach it.
    assert compiled[0] != "RuntimeError" or "internal error" not in compiled[1], compiled
    assert compiled[0] == pure[0], (compiled, pure)
    if compiled[0] == "ok" and isinstance(pure[1], Message):
        assert_same(pure[1], compiled[1])
    else:
        assert compiled == pure


def test_the_compiled_backend_is_active_unless_pure_is_asked_for() -> None:
    # Built, the extension is the active backend; NOOBWIRE_PURE=1 (the suite's second run) makes pure active.
    expected = "pure" if os.environ.get("NOOBWIRE_PURE") == "1" else "compiled"
    assert noobwire.backend == expected
    assert noobwire.get_backend("compiled").name == "compiled"


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_workloads_take_the_compiled_path_both_ways(name: str) -> None:
    msg = make_workload(name)
    generation = workload_generation(name)
    with handovers() as calls:
        frame = compiled_module.encode(msg, generation=generation)
        decoded = compiled_module.decode_frame(frame, generation)
    assert frame == pure.encode(msg, generation=generation)
    assert_same(pure.decode_frame(frame, generation), decoded)
    expected = [] if msg.type_ in HOT_TYPES else ["encode"]
    assert calls == expected


@given(msg=messages())
def test_compiled_writes_the_pure_bytes(msg: Message) -> None:
    with handovers() as calls:
        frame = compiled_module.encode(msg)
    assert frame == pure.encode(msg)
    assert calls == ([] if msg.type_ in HOT_TYPES else ["encode"])


@given(msg=messages())
def test_compiled_reads_the_pure_messages(msg: Message) -> None:
    frame = pure.encode(msg)
    with handovers() as calls:
        decoded = compiled_module.decode_frame(frame)
    assert_same(pure.decode_frame(frame), decoded)
    assert calls == []


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vectors_take_the_compiled_path(name: str) -> None:
    frame = bytes.fromhex(VECTORS[name]["hex"])
    with handovers() as calls:
        decoded = compiled_module.decode_frame(frame)
        encoded = compiled_module.encode(decoded)
    assert encoded == frame
    assert calls == ([] if decoded.type_ in HOT_TYPES else ["encode"])


@given(frame=frames())
def test_mixed_right_and_wrong_fields_get_the_same_verdict(frame: bytes) -> None:
    assert_same_outcome(
        outcome(lambda: compiled_module.decode_frame(frame)), outcome(lambda: pure.decode_frame(frame))
    )


@given(
    index=st.integers(0, len(VECTOR_FRAMES) - 1),
    edits=st.lists(st.tuples(st.sampled_from("rid"), st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
)
def test_mutated_vectors_get_the_same_verdict(index: int, edits: list[tuple[str, int, int]]) -> None:
    frame = bytearray(VECTOR_FRAMES[index])
    for kind, at, byte in edits:
        at %= len(frame) + 1
        if kind == "r" and at < len(frame):
            frame[at] = byte
        elif kind == "i":
            frame.insert(at, byte)
        elif kind == "d" and at < len(frame):
            del frame[at]
    if _touches_a_pickle(bytes(frame)):
        return  # a mutated pickle is pickle's to refuse (see test_bad_input)
    data = bytes(frame)
    assert_same_outcome(
        outcome(lambda: compiled_module.decode_frame(data)), outcome(lambda: pure.decode_frame(data))
    )


def _touches_a_pickle(frame: bytes) -> bool:
    return bytes([wire.EXT_PICKLE]) + b"\x80\x05" in frame


def test_every_truncation_and_byte_change_gets_the_same_verdict() -> None:
    """The deterministic sweep of test_bad_input, comparing the twins' verdicts instead."""
    for data in _spoiled_vectors(random.Random(7), every_cut=1, byte_changes=40):
        assert_same_outcome(
            outcome(lambda data=data: compiled_module.decode_frame(data)),
            outcome(lambda data=data: pure.decode_frame(data)),
        )


def _spoiled_vectors(rng: random.Random, every_cut: int, byte_changes: int) -> Iterator[bytes]:
    """The vectors without a pickle, cut short every ``every_cut`` bytes and with one byte changed
    ``byte_changes`` times each."""
    for frame in VECTOR_FRAMES:
        if _touches_a_pickle(frame):
            continue
        yield from (frame[:cut] for cut in range(1, len(frame), every_cut))
        for _ in range(byte_changes):
            mutated = bytearray(frame)
            mutated[rng.randrange(len(frame))] = rng.randrange(256)
            yield bytes(mutated)


def _zmq_frame(data: bytes) -> Any:
    zmq = pytest.importorskip("zmq")
    return zmq.Frame(data)


HOLDERS: dict[str, Callable[[bytes], Any]] = {
    "bytearray": bytearray,
    "memoryview": memoryview,
    "read-only memoryview": lambda data: memoryview(bytearray(data)).toreadonly(),
    "zmq.Frame": _zmq_frame,
}
"""What else than ``bytes`` a frame arrives in: the compiled ``decode`` reads these in place."""


@pytest.mark.parametrize("holder", list(HOLDERS))
@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vectors_in_any_holder_take_the_compiled_path(name: str, holder: str) -> None:
    frame = bytes.fromhex(VECTORS[name]["hex"])
    with handovers() as calls:
        decoded = compiled_module.decode(HOLDERS[holder](frame))
    assert calls == []
    assert_same(pure.decode(frame), decoded)


@pytest.mark.parametrize("holder", list(HOLDERS))
def test_frames_in_any_holder_get_the_same_verdict(holder: str) -> None:
    make = HOLDERS[holder]
    odd = [b"", b"{", b"\x96", *(frame + b"\x00" for frame in VECTOR_FRAMES)]
    for data in [*odd, *_spoiled_vectors(random.Random(11), every_cut=3, byte_changes=10)]:
        assert_same_outcome(
            outcome(lambda data=data: compiled_module.decode(make(data))),
            outcome(lambda data=data: pure.decode(make(data))),
        )


def test_a_frame_in_a_held_buffer_obeys_max_frame_size() -> None:
    frame = VECTOR_FRAMES[0]
    options = Options(max_frame_size=len(frame) - 1)
    for make in HOLDERS.values():
        compiled = outcome(lambda make=make: compiled_module.decode(make(frame), MESSAGE_CLASSES, options))
        assert compiled[0] == "DecodeError"
        assert compiled == outcome(lambda make=make: pure.decode(make(frame), MESSAGE_CLASSES, options))


def test_held_frames_are_read_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    # The direct path reads a canonical frame in one dimension of bytes without frame_to_decode;
    # anything else (another shape or item size, JSON, a non-canonical prefix) takes the general route.
    routed: list[Any] = []
    real = compiled_module.frame_to_decode
    monkeypatch.setattr(
        compiled_module, "frame_to_decode", lambda data, *rest: routed.append(data) or real(data, *rest)
    )
    frame = VECTOR_FRAMES[0]
    for holder in HOLDERS.values():
        assert_same(pure.decode(frame), compiled_module.decode(holder(frame)))
    assert routed == []
    two_dimensional = memoryview(frame[: len(frame) // 2 * 2]).cast("B", (2, len(frame) // 2))
    words = memoryview(frame[: len(frame) // 4 * 4]).cast("I")
    for data in (two_dimensional, words, bytearray(b"{}"), bytearray(b"\x96\xcc\x01")):
        outcome(lambda data=data: compiled_module.decode(data))
    assert routed == [two_dimensional, words, bytearray(b"{}"), bytearray(b"\x96\xcc\x01")]


class _Counted:
    """Unpickling one counts a run."""

    runs = 0

    def __reduce__(self) -> tuple[Any, ...]:
        return (_count_a_run, ())


def _count_a_run() -> str:
    _Counted.runs += 1
    return "counted"


def test_a_held_frame_unpickles_as_often_as_bytes_do() -> None:
    import numpy as np

    msg = noobwire.ProcessMsg(node_id="n", value={"epoch": 1, "input": {"p": _Counted(), "a": np.arange(3)}})
    frame = compiled_module.encode(msg)
    in_a_row = lambda data: memoryview(data).cast("B", (1, len(data)))  # noqa: E731 - two dimensions
    # A valid frame runs its pickle once; a refused one twice: compiled, then pure to explain.
    for data, verdict, runs in ((frame, "ok", 1), (frame + b"\x00", "DecodeError", 2)):
        for holder in [bytes, *HOLDERS.values(), in_a_row]:
            _Counted.runs = 0
            assert (
                outcome(lambda data=data, holder=holder: compiled_module.decode(holder(data)))[0] == verdict
            )
            assert _Counted.runs == runs, holder


def _nested(kind: str, levels: int, innermost: Any) -> Any:
    wrap: dict[str, Callable[[Any], Any]] = {
        "list": lambda value: [value],
        "tuple": lambda value: (value,),
        "dict": lambda value: {"k": value},
        "frozenset": lambda value: frozenset([value]),
    }
    value = innermost
    for _ in range(levels):
        value = wrap[kind](value)
    return value


HASHABLE_INNERMOST = [1, ()]
DEPTH_CASES = [
    *[(kind, inner) for kind in ("list", "tuple", "dict") for inner in (1, (), [], {})],
    *[(kind, inner) for kind in ("frozenset", "key") for inner in HASHABLE_INNERMOST],
]


@pytest.mark.parametrize(("kind", "innermost"), DEPTH_CASES, ids=[f"{k}-{i!r}" for k, i in DEPTH_CASES])
def test_the_depth_limit_is_the_same(kind: str, innermost: Any) -> None:
    timestamp = make_workload("E4").timestamp
    for levels in range(wire.MAX_DEPTH - 8, wire.MAX_DEPTH - 1):
        if kind == "key":  # a map whose key is nested tuples
            value = {_nested("tuple", levels - 1, innermost): None}
        else:
            value = _nested(kind, levels, innermost)
        event = {"id": 0, "timestamp": timestamp, "node_id": "n", "signal": "s", "epoch": 0}
        msg = noobwire.EventMsg.model_construct(
            node_id="n", timestamp=timestamp, value=[{**event, "value": value}]
        )
        by_compiled, by_pure = (
            outcome(lambda msg=msg: compiled_module.encode(msg)),
            outcome(lambda msg=msg: pure.encode(msg)),
        )
        assert by_compiled == by_pure, (kind, levels)
        if by_pure[0] == "ok":
            assert compiled_module.encode(compiled_module.decode_frame(by_pure[1])) == by_pure[1]


@given(value=values())
def test_a_process_input_of_any_value(value: Any) -> None:
    msg = noobwire.ProcessMsg(node_id="n", value={"epoch": 1, "input": {"x": value}})
    assert compiled_module.encode(msg) == pure.encode(msg)


def test_subclasses_and_mappings_take_the_slow_path_to_the_same_bytes() -> None:
    """Schema fields of subclass types are coerced; an event that is not a dict is refused alike."""
    base = make_workload("E4")
    event = dict(base.value[0])
    odd = noobwire.EventMsg.model_construct(
        node_id="n",
        timestamp=base.timestamp,
        value=[
            {**event, "epoch": True, "signal": noobwire.MetaSignal.NoEvent},
            {**event, "extra": "ignored"},
            dict(reversed(list(event.items()))),
        ],
    )
    assert compiled_module.encode(odd) == pure.encode(odd)
    broken = noobwire.EventMsg.model_construct(node_id="n", timestamp=base.timestamp, value=[("not", "dict")])
    assert outcome(lambda: compiled_module.encode(broken)) == outcome(lambda: pure.encode(broken))


def _raw_ext(code: int, data: bytes) -> msgpack.ExtType:
    # msgpack.ExtType refuses negative codes; its packer writes them all the same.
    return tuple.__new__(msgpack.ExtType, (code, data))


ext_codes = st.sampled_from([-128, -2, -1, *range(0, 12), 15, 16, 31, 32, 127])
raw_exts = st.builds(_raw_ext, ext_codes, st.binary(max_size=24)) | st.builds(
    _raw_ext, st.just(-1), st.sampled_from([4, 8, 12]).flatmap(lambda n: st.binary(min_size=n, max_size=n))
)
wire_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=8)
    | st.binary(max_size=8)
    | raw_exts,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=4) | st.integers(-(2**63), 2**64 - 1), inner, max_size=3),
    max_leaves=12,
)  # fmt: skip


@given(value=wire_values, as_input=st.booleans())
def test_any_msgpack_value_gets_the_same_verdict(value: Any, as_input: bool) -> None:
    """Arbitrary MessagePack, extensions of every code and payload, where a message holds a value."""
    stamp = msgpack.Timestamp(1, 0)
    if as_input:
        body = [1, REFERENCE.type_codes["process"], 0, "n", stamp, [1, {"x": value}]]
    else:
        body = [1, REFERENCE.type_codes["event"], 0, "n", stamp, [[1, stamp, "n", "s", 1, value]]]
    data = msgpack.packb(body, use_bin_type=True)
    assert_same_outcome(
        outcome(lambda: compiled_module.decode_frame(data)), outcome(lambda: pure.decode_frame(data))
    )


HUGE_LIMITS = st.sampled_from([2**63 - 1, 2**63, 2**64, 10**30])
"""Limits at and beyond what a C int64 holds: all mean "no limit"."""


@given(
    index=st.integers(0, len(VECTOR_FRAMES) - 1),
    options=st.builds(
        Options,
        allow_pickle=st.booleans(),
        max_depth=st.integers(1, 8) | st.just(wire.MAX_DEPTH),
        max_length=st.integers(wire.HEADER_LENGTH, 40) | HUGE_LIMITS,
        max_frame_size=st.integers(1, 400) | HUGE_LIMITS,
        accept_json=st.booleans(),
    ),
)
def test_the_limits_and_the_pickle_policy_get_the_same_verdict(index: int, options: Options) -> None:
    data = VECTOR_FRAMES[index]
    assert_same_outcome(
        outcome(lambda: compiled_module.decode(data, MESSAGE_CLASSES, options)),
        outcome(lambda: pure.decode(data, MESSAGE_CLASSES, options)),
    )
    decoded = pure.decode(data)
    assert outcome(lambda: compiled_module.encode(decoded, options=options)) == outcome(
        lambda: pure.encode(decoded, options=options)
    )


def test_decoded_dicts_are_ordinary_dicts() -> None:
    """The compiled decoder fills copies of template dicts in place: they must behave as any dict."""
    expected = make_workload("E4")
    msg = compiled_module.decode_frame(pure.encode(expected))
    scalar_event, list_event = msg.value[0], msg.value[3]
    # Tracked by the cycle collector exactly when they hold a container, as CPython's own dicts are.
    assert gc.is_tracked(list_event)
    assert gc.is_tracked(msg.__dict__)
    assert not gc.is_tracked(scalar_event)
    assert list(scalar_event) == list(EVENT_KEYS)
    assert scalar_event == dict(expected.value[0])
    assert hash(next(iter(scalar_event))) == hash("id")
    del scalar_event["id"]
    scalar_event["extra"] = 1
    scalar_event["id"] = 7
    assert list(scalar_event) == [*EVENT_KEYS[1:], "extra", "id"]
    assert scalar_event["signal"] == expected.value[0]["signal"]
    assert scalar_event.get("id") == 7
    msg.node_id = "renamed"  # pydantic's __setattr__ on the instance dict
    assert msg.__dict__["node_id"] == "renamed"
    assert msg.model_dump()["node_id"] == "renamed"


# --- noob 1003's generation (wire-format version 2) ---------------------------------------------------


def _noob_1003() -> Any:
    """The noob 1003 generation, if that noob is installed (the test extra installs it)."""
    from noobwire.generations import NOOB_1003

    try:
        NOOB_1003.classes  # noqa: B018  (imports noob's message module)
    except ImportError:
        pytest.skip("noob 1003 is not installed")
    if "spec" not in NOOB_1003.type_codes or "spec" not in NOOB_1003.classes:
        pytest.skip("the installed noob is not 1003.x")
    return NOOB_1003


@pytest.mark.parametrize("name", sorted(V2_VECTORS))
def test_version_2_vectors_take_the_compiled_path(name: str) -> None:
    generation = _noob_1003()
    frame = bytes.fromhex(V2_VECTORS[name]["hex"])
    with handovers() as calls:
        decoded = compiled_module.decode_frame(frame, generation)
        encoded = compiled_module.encode(decoded, generation, Options())
    assert encoded == frame
    assert calls == ([] if decoded.type_ in HOT_TYPES else ["encode"])


def test_spoiled_version_2_frames_get_the_same_verdict() -> None:
    generation = _noob_1003()
    rng = random.Random(12)
    for vector in [*V2_VECTORS.values(), *V2_REJECTED.values()]:
        frame = bytes.fromhex(vector["hex"])
        spoiled = [frame[:cut] for cut in range(1, len(frame), 2)]
        for _ in range(60):
            mutated = bytearray(frame)
            mutated[rng.randrange(len(frame))] = rng.randrange(256)
            spoiled.append(bytes(mutated))
        for data in [frame, *spoiled]:
            assert_same_outcome(
                outcome(lambda data=data: compiled_module.decode_frame(data, generation)),
                outcome(lambda data=data: pure.decode_frame(data, generation)),
            )


@given(
    first_levels=st.integers(0, 40),
    later_levels=st.integers(0, 40),
    max_depth=st.integers(1, 48) | st.just(wire.MAX_DEPTH),
    as_input=st.booleans(),
    kind=st.sampled_from(["array", "map", "set"]),
)
def test_duplicates_with_a_deep_first_value_get_the_same_verdict(
    first_levels: int, later_levels: int, max_depth: int, as_input: bool, kind: str
) -> None:
    """A map whose first value is deep and whose duplicate key then replaces it: the depth limit is
    the frame's as written, so both refuse it or both read it (never the compiled one's last resort)."""

    def nested(levels: int) -> bytes:
        link = {"array": b"\x91", "map": b"\x81\x00", "set": b"\x92\xc7\x00" + bytes([wire.EXT_FROZENSET])}
        return link[kind] * levels + b"\x00"

    value = b"\x83\x00" + nested(first_levels) + b"\x01\x01\x00" + nested(later_levels)
    if as_input:
        data = (
            bytes([0x96, 1, REFERENCE.type_codes["process"], 0, 0xA1, 0x6E, 0xD6, 0xFF, 0, 0, 0, 0, 0x92, 1])
            + value
        )
    else:
        data = event_frame(value)
    options = Options(max_depth=max_depth)
    compiled = outcome(lambda: compiled_module.decode(data, MESSAGE_CLASSES, options))
    by_pure = outcome(lambda: pure.decode(data, MESSAGE_CLASSES, options))
    assert_same_outcome(compiled, by_pure)
    level = 3 if as_input else 4  # of the map: a process input, or an event's value
    deepest = level + max(first_levels, later_levels)
    keys_too_deep = kind == "set" and max(first_levels, later_levels) - 1 > MAX_KEY_DEPTH  # (elements)
    assert (by_pure[0] == "ok") is (deepest <= max_depth and not keys_too_deep), (by_pure, deepest)


@pytest.mark.parametrize("limit", [2**63 - 1, 2**63, 2**64, 10**30])
@pytest.mark.parametrize("name", sorted(VECTORS))
def test_limits_beyond_int64_read_every_vector_alike(name: str, limit: int) -> None:
    data = bytes.fromhex(VECTORS[name]["hex"])
    for options in (Options(max_length=limit), Options(max_frame_size=limit, max_length=limit)):
        compiled = outcome(lambda options=options: compiled_module.decode(data, MESSAGE_CLASSES, options))
        assert_same_outcome(
            compiled, outcome(lambda options=options: pure.decode(data, MESSAGE_CLASSES, options))
        )


@pytest.mark.parametrize("name", ["encode", "decode_frame", "decode"])
def test_the_twins_take_the_same_arguments_as_the_stub_says(name: str) -> None:
    """A caller may pass any argument by name to either backend (and mypy checks them against the stub)."""
    import ast
    import inspect
    from pathlib import Path

    stub = ast.parse(Path(compiled_module.__file__).with_name("compiled.pyi").read_text())
    (declared,) = [node for node in stub.body if isinstance(node, ast.FunctionDef) and node.name == name]
    stub_parameters = [argument.arg for argument in declared.args.args]
    for twin in (compiled_module, pure):
        signature = inspect.signature(getattr(twin, name))
        assert list(signature.parameters) == stub_parameters, twin.__name__
    pure_defaults = [p.default for p in inspect.signature(getattr(pure, name)).parameters.values()]
    fast_defaults = [p.default for p in inspect.signature(getattr(compiled_module, name)).parameters.values()]
    assert fast_defaults == pure_defaults


def _events_stamped(*stamps: Any) -> Message:
    msg = noobwire.EventMsg(node_id="cam", value=[])
    for i, stamp in enumerate(stamps):
        event = {"id": i, "timestamp": stamp, "node_id": "cam", "signal": "s", "epoch": 7, "value": i}
        msg.value.append(event)
    return msg


def test_events_of_several_timestamps_each_read_their_own() -> None:
    # The compiled reader compares a datetime field's bytes with the last one it read: repeats are
    # shared, and anything else (another instant, another offset, a longer form) is read anew.
    now = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
    later = now + timedelta(seconds=1)
    offset = now.astimezone(timezone(timedelta(hours=2)))
    far = datetime(2500, 1, 1, tzinfo=UTC)  # a 12-byte timestamp, past 2**34 seconds
    stamps = [now, later, now, offset, far, now, now]
    frame = pure.encode(_events_stamped(*stamps))
    with handovers() as calls:
        decoded = compiled_module.decode_frame(frame)
    assert calls == []
    assert_same(pure.decode_frame(frame), decoded)
    read = [event["timestamp"] for event in decoded.value]
    assert read == stamps
    assert [stamp.utcoffset() for stamp in read] == [stamp.utcoffset() for stamp in stamps]
    assert read[5] is read[6]  # one object for the bytes repeated


STAMP = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PICKLING = Options(allow_pickle=True)


class _ChangesItsDict:
    """Pickling one changes the dict that holds it, while that dict is being written."""

    def __init__(self, holder: dict[str, Any], how: str) -> None:
        self.holder, self.how = holder, how

    def __reduce__(self) -> tuple[Any, ...]:
        if self.how == "clear":
            self.holder.clear()  # (what the encoder is writing loses its last other reference)
        elif self.how == "add":
            self.holder["added"] = [1, 2, 3]
        else:
            del self.holder["b"]
            self.holder["c"] = [4, 5, 6]
        return (str, ("pickled",))


@pytest.mark.parametrize("how", ["clear", "add", "replace"])
def test_a_dict_changed_while_it_is_written(how: str) -> None:
    results = {}
    for name, backend in (("compiled", compiled_module), ("pure", pure)):
        held: dict[str, Any] = {}
        held["a"] = _ChangesItsDict(held, how)
        held["b"] = [7, 8, 9]
        msg = noobwire.ProcessMsg(node_id="n", timestamp=STAMP, value={"epoch": 1, "input": None})
        msg.value["input"] = held
        results[name] = outcome(lambda backend=backend, msg=msg: backend.encode(msg, options=PICKLING))
    if how == "replace":  # the same size: both write what they meet, the same bytes
        assert results["compiled"] == results["pure"]
        assert results["compiled"][0] == "ok"
    else:  # a dict that changed size is refused, never written in part
        assert results["pure"][0] == "EncodeError"
        assert results["compiled"][0] != "ok"


NAIVE_DATETIMES = [
    datetime(2026, 12, 8, 4, 5, 6, 789012),
    datetime(1, 1, 1),
    datetime(9999, 12, 31, 23, 59, 59, 999999),
    datetime(2021, 11, 7, 1, 30, fold=1),
    datetime(1969, 12, 31, 23, 59, 59, 1),
]


@pytest.mark.parametrize("value", NAIVE_DATETIMES, ids=str)
def test_a_naive_datetime_is_written_and_read_in_c_as_pure_does(value: datetime) -> None:
    """A naive datetime (a node's ``datetime.now()`` in a value) is ``EXT_DATETIME`` of 12 bytes: written
    and read by the compiled path itself (it called Python for each one, 1.4 us and 2 us a datetime),
    the same bytes and the same value, its fold kept."""
    msg = noobwire.EventMsg(node_id="n", timestamp=datetime(2026, 1, 1, tzinfo=UTC), value=[_event(value)])

    def no_python(*args: Any) -> Any:
        raise AssertionError("the compiled path called Python for a naive datetime")

    with handovers() as calls, pytest.MonkeyPatch.context() as patch:
        for name in ("datetime_parts", "datetime_payload", "datetime_from_payload"):
            patch.setattr(extensions, name, no_python)
        frame = compiled_module.encode(msg)
        decoded = compiled_module.decode_frame(frame)
    assert calls == []
    assert frame == pure.encode(msg)
    assert_same(pure.decode_frame(frame), decoded)
    back = decoded.value[0]["value"]
    assert (type(back), back, back.fold, back.tzinfo) == (datetime, value, value.fold, None)


def _event(value: Any) -> dict[str, Any]:
    return {"id": 1, "timestamp": datetime(2026, 1, 1, tzinfo=UTC), "node_id": "n", "signal": "s", "epoch": 1,
            "value": value}  # fmt: skip


@pytest.mark.parametrize(
    ("nanoseconds", "seconds"),
    [
        (0, 0),
        (999_999_999, -62135596800),  # 0001-01-01, the least a datetime holds
        (0, -62135596801),  # a second before it
        (999_999_999, 253402300799),  # 9999-12-31 23:59:59
        (0, 253402300800),  # a second after it
        (1_000_000_000, 0),  # nanoseconds past a second
        (1 << 31 | 5_000, 0),  # the fold bit
        (1 << 30, 0),  # the reserved bit
        (0xFFFF_FFFF, 0),
        (0, -(1 << 63)),
        (0, (1 << 63) - 1),
    ],
)
def test_any_naive_datetime_payload_gets_the_pure_verdict(nanoseconds: int, seconds: int) -> None:
    payload = nanoseconds.to_bytes(4, "big") + seconds.to_bytes(8, "big", signed=True)
    value = b"\xc7\x0c" + wire.EXT_DATETIME.to_bytes(1, "big", signed=True) + payload
    frame = event_frame(value)
    assert_same_outcome(
        outcome(lambda: compiled_module.decode_frame(frame)), outcome(lambda: pure.decode_frame(frame))
    )


class _Moment(datetime):
    """A datetime subclass (as pandas' Timestamp is one)."""


@pytest.mark.parametrize("allow_pickle", [True, False])
@pytest.mark.parametrize(
    "stamp", [_Moment(2026, 1, 1), _Moment(2026, 1, 1, tzinfo=UTC)], ids=["naive", "utc"]
)
def test_a_datetime_subclass_in_an_event_s_timestamp_is_written_as_its_datetime(
    stamp: datetime, allow_pickle: bool
) -> None:
    """The compiled record writer pickled it (with pickle off: its internal error), where pure writes the
    datetime; the frame it wrote did not decode on either backend."""
    event = {"id": 1, "timestamp": stamp, "node_id": "n", "signal": "s", "epoch": 1, "value": 2}
    msg = noobwire.EventMsg.model_construct(
        node_id="n", timestamp=datetime(2026, 1, 1, tzinfo=UTC), value=[event]
    )
    options = Options(allow_pickle=allow_pickle)
    frame = compiled_module.encode(msg, options=options)
    assert frame == pure.encode(msg, options=options)
    back = compiled_module.decode_frame(frame, options=options).value[0]["timestamp"]
    assert (type(back), back) == (datetime, datetime(2026, 1, 1, tzinfo=stamp.tzinfo))
