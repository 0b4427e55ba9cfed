"""Every message type and every value kind round-trips exactly through MessagePack, on every backend."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import noobwire
import noobwire._core.pure
import noobwire.bench.workloads
from helpers import assert_same, json_safe
from noobwire import EventMsg, Message
from noobwire.codec import Backend
from strategies import datetimes, events, json_values, messages, messages_by_type, values


def event_message(value: object) -> EventMsg:
    """An EventMsg carrying ``value`` as is."""
    msg = EventMsg(node_id="n", value=[])
    # Set after validation: the reference's validators would unpickle a "pck__" string.
    msg.value.append(
        {"id": 1, "timestamp": msg.timestamp, "node_id": "n", "signal": "s", "epoch": 0, "value": value}
    )
    return msg


def roundtrip(backend: Backend, msg: Message) -> Message:
    data = backend.encode(msg)
    decoded = backend.decode(data)
    assert_same(msg, decoded)
    assert backend.encode(decoded) == data, "re-encoding a decoded message changed its bytes"
    return decoded


@given(msg=messages())
def test_every_message_roundtrips(backend: Backend, msg: Message) -> None:
    roundtrip(backend, msg)


@given(data=st.data())
def test_each_message_type_roundtrips(backend: Backend, data: st.DataObject) -> None:
    for name, strategy in messages_by_type().items():
        msg = data.draw(strategy, label=name)
        decoded = roundtrip(backend, msg)
        assert type(decoded) is type(msg)
        assert decoded.type_ == name


@given(value=values())
def test_every_value_kind_roundtrips_inside_an_event(backend: Backend, value: object) -> None:
    roundtrip(backend, event_message(value))


@given(timestamp=datetimes)
def test_message_timestamps_keep_microseconds_and_offset(backend: Backend, timestamp) -> None:
    msg = noobwire.PingMsg(node_id="n", timestamp=timestamp)
    decoded = roundtrip(backend, msg)
    assert decoded.timestamp.utcoffset() == timestamp.utcoffset()
    assert decoded.timestamp.microsecond == timestamp.microsecond


@given(event_list=st.lists(events(json_values), max_size=4), timestamp=datetimes)
def test_msgpack_and_reference_json_decode_to_the_same_message(
    backend: Backend, event_list: list[dict], timestamp
) -> None:
    """Where the reference JSON is lossless, both formats decode to equal messages."""
    timestamp = json_safe(timestamp)
    event_list = [{**event, "timestamp": json_safe(event["timestamp"])} for event in event_list]
    msg = EventMsg(node_id="cam", timestamp=timestamp, value=event_list)
    from_msgpack = backend.decode(backend.encode(msg))
    from_json = backend.decode(msg.to_json_bytes())
    assert_same(from_msgpack, from_json)


def test_reference_lossy_kinds_are_exact_in_msgpack(backend: Backend) -> None:
    """Tuples, sets, bytes and int keys: the reference turns them into lists, str and str keys."""
    value = {1: (1, 2), "s": {3}, "b": b"\xff\x00", "f": frozenset({"a"}), (1, "k"): None}
    msg = event_message(value)
    assert_same(msg, backend.decode(backend.encode(msg)))


def test_no_event_keeps_its_identity(backend: Backend) -> None:
    msg = EventMsg(
        node_id="n",
        value=[
            {
                "id": 1,
                "timestamp": noobwire.bench.workloads.TIMESTAMP,
                "node_id": "n",
                "signal": noobwire.META_SIGNAL,
                "epoch": 3,
                "value": noobwire.MetaSignal.NoEvent,
            }
        ],
    )
    decoded = backend.decode(backend.encode(msg))
    assert decoded.value[0]["value"] is noobwire.MetaSignal.NoEvent
    from_json = backend.decode(msg.to_json_bytes())
    assert from_json.value[0]["value"] is noobwire.MetaSignal.NoEvent


def test_nested_sets_are_ordered_once_per_encode(backend: Backend, monkeypatch) -> None:
    """Each set's canonical order is found once: nested sets cost time linear in their depth."""
    nested: frozenset = frozenset()
    for level in range(30):  # (a set's element nests at most 32 deep)
        nested = frozenset({nested, level})
    packed_elements = []
    real = noobwire._core.pure._pack_element
    monkeypatch.setattr(
        noobwire._core.pure,
        "_pack_element",
        lambda item, default: packed_elements.append(1) or real(item, default),
    )
    roundtrip(backend, event_message(nested))
    assert len(packed_elements) <= 2 * 2 * 30  # two elements a level, in two encodes
