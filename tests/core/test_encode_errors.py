"""Encoding never loses data silently: what cannot be written raises EncodeError with its path."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime

import pytest

import noobwire
from helpers import assert_same
from noobwire import EncodeError, EventMsg
from noobwire.codec import Backend

T = datetime(2026, 1, 1, tzinfo=UTC)


def _event(value: object, **fields: object) -> dict:
    return {
        "id": 1,
        "timestamp": T,
        "node_id": "n",
        "signal": "s",
        "epoch": 0,
        "value": value,
        **fields,
    }


def _message(*values: object) -> EventMsg:
    msg = EventMsg(node_id="n", timestamp=T, value=[])
    msg.value.extend(_event(value) for value in values)
    return msg


def test_unpicklable_value_names_its_type_and_path(backend: Backend) -> None:
    lock = threading.Lock()
    with pytest.raises(EncodeError) as info:
        backend.encode(_message(1, {"a": [0, lock]}))
    assert info.value.path == "value[1]['value']['a'][1]"
    assert "lock" in str(info.value)


def test_lone_surrogate_is_refused_with_its_path(backend: Backend) -> None:
    with pytest.raises(EncodeError, match="surrogate") as info:
        backend.encode(_message(["ok", "\ud800"]))
    assert info.value.path == "value[0]['value'][1]"


def test_unpicklable_dict_key_is_located(backend: Backend) -> None:
    with pytest.raises(EncodeError, match="type function") as info:
        backend.encode(_message({(1, lambda: 0): 1}))
    assert info.value.path.startswith("value[0]['value'] (key (1, <function")
    assert info.value.path.endswith(")[1]")


def test_too_deep_values_are_refused(backend: Backend) -> None:
    deep: list = []
    for _ in range(2000):
        deep = [deep]
    with pytest.raises(EncodeError, match="a list nested deeper") as info:
        backend.encode(_message(deep))
    assert info.value.path == "value[0]['value']"


def test_a_bad_node_id_is_named(backend: Backend) -> None:
    with pytest.raises(EncodeError, match="surrogate") as info:
        backend.encode(noobwire.PingMsg(node_id="\ud800"))
    assert info.value.path == "node_id"


def test_a_huge_int_key_does_not_break_the_error(backend: Backend) -> None:
    with pytest.raises(EncodeError, match="lock") as info:
        backend.encode(_message({10**5000: threading.Lock()}))
    assert info.value.path == "value[0]['value'][<int of 16610 bits>]"


def test_cyclic_values_are_refused(backend: Backend) -> None:
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(EncodeError):
        backend.encode(_message(cycle))


def test_local_exception_classes_cannot_be_sent(backend: Backend) -> None:
    class LocalError(Exception):
        pass

    msg = noobwire.ErrorMsg(node_id="n", value={"err_type": LocalError, "err_args": (), "traceback": ""})
    with pytest.raises(EncodeError, match="cannot be found again"):
        backend.encode(msg)


@pytest.mark.parametrize(
    ("event", "path"),
    [
        (_event(1, id="1"), "value[0]['id']"),
        (_event(1, epoch=1.5), "value[0]['epoch']"),
        (_event(1, node_id=None), "value[0]['node_id']"),
        (_event(1, timestamp="2026-01-01"), "value[0]['timestamp']"),
        ({"id": 1}, "value[0]"),
        ("not an event", "value[0]"),
    ],
)
def test_events_that_break_the_schema_are_refused(backend: Backend, event: object, path: str) -> None:
    msg = EventMsg.model_construct(node_id="n", timestamp=T, value=[event], type_="event")
    with pytest.raises(EncodeError) as info:
        backend.encode(msg)
    assert info.value.path == path


def test_schema_typed_subclasses_are_written_as_their_base(backend: Backend) -> None:
    """A StrEnum in a str field, a bool in an int field: written as the schema's type."""
    msg = EventMsg.model_construct(
        node_id=noobwire.NodeStatus.ready,
        timestamp=T,
        value=[_event(1, id=True, signal=noobwire.MessageType.event)],
        type_=noobwire.MessageType.event,
    )
    decoded = backend.decode(backend.encode(msg))
    assert type(decoded.node_id) is str
    assert decoded.value[0]["id"] == 1
    assert type(decoded.value[0]["id"]) is int
    assert type(decoded.value[0]["signal"]) is str


def test_any_typed_subclasses_keep_their_type(backend: Backend) -> None:
    """In a value, a StrEnum member or an IntEnum is not a str or an int: it travels pickled."""
    msg = _message(noobwire.NodeStatus.ready, [noobwire.MessageType.error])
    decoded = backend.decode(backend.encode(msg))
    assert decoded.value[0]["value"] is noobwire.NodeStatus.ready
    assert decoded.value[1]["value"][0] is noobwire.MessageType.error


def test_bytes_like_values_are_written_as_bytes(backend: Backend) -> None:
    """bytearray and memoryview carry their bytes; they come back as bytes (documented)."""
    msg = _message(bytearray(b"\x00\xff"), memoryview(b"abc"))
    decoded = backend.decode(backend.encode(msg))
    assert_same([b"\x00\xff", b"abc"], [e["value"] for e in decoded.value])


def test_unknown_message_type_is_refused(backend: Backend) -> None:
    msg = noobwire.Message.model_construct(type_="bogus", node_id="n", timestamp=T)
    with pytest.raises(EncodeError, match="unknown message type"):
        backend.encode(msg)


def test_schema_typed_dict_subclasses_are_written_as_dicts(backend: Backend) -> None:
    """A defaultdict as a process input is written as the dict the schema says it is."""
    msg = noobwire.ProcessMsg(node_id="c", timestamp=T, value={"epoch": 1, "input": None})
    msg.value["input"] = defaultdict(list, {"a": [1]})
    decoded = backend.decode(backend.encode(msg))
    assert_same({"a": [1]}, decoded.value["input"])


def test_control_values_that_break_the_schema_are_refused(backend: Backend) -> None:
    bad = [
        noobwire.ErrorMsg.model_construct(
            node_id="n", timestamp=T, type_="error",
            value={"err_type": KeyboardInterrupt, "err_args": (), "traceback": ""},
        ),
        noobwire.StatusMsg.model_construct(node_id="n", timestamp=T, value=3, type_="status"),
        noobwire.PingMsg.model_construct(node_id="n", timestamp=T, value=3, type_="ping"),
        noobwire.IdentifyMsg.model_construct(node_id="n", timestamp=T, value={}, type_="identify"),
        noobwire.ErrorMsg.model_construct(
            node_id="n", timestamp=T, type_="error",
            value={"err_type": "ValueError", "err_args": (), "traceback": ""},
        ),
    ]  # fmt: skip
    for msg in bad:
        with pytest.raises(EncodeError):
            backend.encode(msg)


@pytest.mark.parametrize("innermost", [[], {}, 1, None], ids=["empty-list", "empty-dict", "int", "nil"])
def test_depth_limit_is_the_decoders(backend: Backend, innermost: object) -> None:
    """What the encoder writes at the nesting limit, the decoder reads; one level more is refused."""

    def nested(levels: int) -> object:
        value = innermost
        for _ in range(levels):
            value = [value]
        return value

    # The frame, the event list and the event are levels 1 to 3; an event value starts at level 4.
    is_container = isinstance(innermost, list | dict)
    fits = noobwire.wire.MAX_DEPTH - 3 - int(is_container)
    frame = backend.encode(_message(nested(fits)))
    assert backend.encode(backend.decode(frame)) == frame  # (== on the messages would recurse too deep)
    with pytest.raises(EncodeError, match="nested deeper") as info:
        backend.encode(_message(nested(fits + 1 if is_container else fits + 2)))
    assert info.value.path == "value[0]['value']"
