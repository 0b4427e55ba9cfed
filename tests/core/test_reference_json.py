"""The reference JSON codec: byte-identical output, and it reads everything the reference writes."""

from __future__ import annotations

import base64
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

import noobwire
import noobwire.bench.workloads
from helpers import VECTOR_DIR, assert_same
from noobwire import EventMsg, MetaSignal
from noobwire.codec import Backend
from tagged import message_from_tagged

T = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _event(i: int, signal: str, value: object, timestamp: datetime = T) -> dict:
    return {
        "id": i,
        "timestamp": timestamp,
        "node_id": "cam",
        "signal": signal,
        "epoch": 42,
        "value": value,
    }


def test_e4_json_is_byte_identical_to_the_reference() -> None:
    msg = noobwire.bench.workloads.e4()
    expected = (
        b'{"type":"event","node_id":"cam","timestamp":"2026-01-01T12:00:00.123456Z","value":['
        b'{"id":0,"timestamp":"2026-01-01T12:00:00.123456+00:00","node_id":"cam",'
        b'"signal":"frame_index","epoch":42,"value":1234},'
        b'{"id":1,"timestamp":"2026-01-01T12:00:00.123456+00:00","node_id":"cam",'
        b'"signal":"mean","epoch":42,"value":0.5},'
        b'{"id":2,"timestamp":"2026-01-01T12:00:00.123456+00:00","node_id":"cam",'
        b'"signal":"label","epoch":42,"value":"ok"},'
        b'{"id":3,"timestamp":"2026-01-01T12:00:00.123456+00:00","node_id":"cam",'
        b'"signal":"coords","epoch":42,"value":[1.0,2.0,3.0]}]}'
    )
    assert msg.to_json_bytes() == expected
    assert noobwire.encode_json(msg) == expected


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        (
            noobwire.StatusMsg(node_id="cam", timestamp=T, value="ready"),
            b'{"type":"status","node_id":"cam","timestamp":"2026-01-01T12:00:00.123456Z","value":"ready"}',
        ),
        (
            noobwire.StartMsg(node_id="command", timestamp=T, value=5),
            b'{"type":"start","node_id":"command","timestamp":"2026-01-01T12:00:00.123456Z","value":5}',
        ),
        (
            noobwire.PingMsg(node_id="command", timestamp=T.replace(tzinfo=None)),
            b'{"type":"ping","node_id":"command","timestamp":"2026-01-01T12:00:00.123456","value":null}',
        ),
        (
            noobwire.ProcessMsg(
                node_id="command",
                timestamp=T.astimezone(timezone(timedelta(hours=2))),
                value={"epoch": 42, "input": {"gain": 2, "name": "x"}},
            ),
            b'{"type":"process","node_id":"command","timestamp":"2026-01-01T14:00:00.123456+02:00",'
            b'"value":{"epoch":42,"input":{"gain":2,"name":"x"}}}',
        ),
        (
            noobwire.IdentifyMsg(
                node_id="cam",
                timestamp=T,
                value={
                    "node_id": "cam",
                    "outbox": "ipc:///tmp/cam",
                    "status": noobwire.NodeStatus.waiting,
                    "signals": ["frame"],
                    "slots": None,
                },
            ),
            b'{"type":"identify","node_id":"cam","timestamp":"2026-01-01T12:00:00.123456Z",'
            b'"value":{"node_id":"cam","outbox":"ipc:///tmp/cam","status":"waiting",'
            b'"signals":["frame"],"slots":null}}',
        ),
    ],
)
def test_control_message_json_is_byte_identical(msg: noobwire.Message, expected: bytes) -> None:
    assert msg.to_json_bytes() == expected


def test_meta_sentinel_is_written_as_its_string_without_touching_the_message() -> None:
    msg = EventMsg(node_id="cam", timestamp=T, value=[_event(0, "__META__", MetaSignal.NoEvent)])
    assert b'"signal":"__META__","epoch":42,"value":"NoEvent"}' in msg.to_json_bytes()
    assert msg.value[0]["value"] is MetaSignal.NoEvent


def test_a_meta_event_may_carry_any_value() -> None:
    frame = np.arange(3)
    msg = EventMsg(node_id="cam", timestamp=T, value=[_event(0, "__META__", frame)])
    assert msg.value[0]["value"] is frame
    assert_same(frame, noobwire.decode(msg.to_json_bytes()).value[0]["value"])


def test_unserializable_values_are_pickled_and_read_back() -> None:
    frame = np.arange(6, dtype=np.uint16).reshape(2, 3)
    msg = EventMsg(node_id="cam", timestamp=T, value=[_event(0, "frame", frame)])
    data = msg.to_json_bytes()
    start = data.index(b'"value":"pck__') + len(b'"value":"pck__')
    pickled = base64.b64decode(data[start : data.index(b'"', start)])
    assert np.array_equal(pickle.loads(pickled), frame)
    decoded = noobwire.decode(data)
    assert_same(frame, decoded.value[0]["value"])


def test_error_value_is_pickled_whole() -> None:
    msg = noobwire.ErrorMsg(
        node_id="cam",
        timestamp=T,
        value={"err_type": ValueError, "err_args": ("x",), "traceback": "tb"},
    )
    data = msg.to_json_bytes()
    assert data.startswith(
        b'{"type":"error","node_id":"cam","timestamp":"2026-01-01T12:00:00.123456Z","value":"pck__'
    )
    value = pickle.loads(base64.b64decode(data[data.index(b"pck__") + 5 : -2]))
    assert value == {"err_type": ValueError, "err_args": ("x",), "traceback": "tb"}
    assert_same(msg, noobwire.decode(data))


def test_non_utf8_bytes_cannot_be_written_as_json() -> None:
    msg = EventMsg(node_id="cam", timestamp=T, value=[_event(0, "raw", b"\xff")])
    with pytest.raises(noobwire.EncodeError):
        msg.to_json_bytes()


def test_lax_validation_of_the_reference() -> None:
    data = b'{"type":"process","node_id":"command","value":{"epoch":"3","input":null}}'
    msg = noobwire.decode(data)
    assert msg.value == {"epoch": 3, "input": None}
    assert msg.timestamp.utcoffset() is not None  # missing timestamp: now


def test_json_frames_are_decoded_from_the_last_frame() -> None:
    msg = noobwire.bench.workloads.e4()
    assert_same(noobwire.decode(msg.to_json_bytes()), noobwire.decode([b"event", msg.to_json_bytes()]))
    assert_same(msg, noobwire.Message.from_bytes([b"event", msg.to_json_bytes()]))


# --- against noob itself: what its last reference-era release wrote -----------------------------------
# tests/vectors/reference_json/noob-0.0.99999999.json holds messages and the bytes noob 0.0.99999999
# wrote for them, and what it read back from them (tests/vectors/generate_reference_json.py, run once
# with that noob installed).

CORPUS = json.loads((VECTOR_DIR / "reference_json" / "noob-0.0.99999999.json").read_text(encoding="utf-8"))
ENTRIES = CORPUS["entries"]


def test_the_corpus_is_noobs_own() -> None:
    assert CORPUS["writer"] == "noob 0.0.99999999"
    kinds = {entry["message"]["type"] for entry in ENTRIES}
    assert kinds == {"event", "status", "stop", "identify", "announce"}
    assert any('"value":"NoEvent"' in entry["json"] for entry in ENTRIES)


@pytest.mark.parametrize("index", range(len(ENTRIES)))
def test_the_mirror_writes_what_noob_wrote(index: int) -> None:
    entry = ENTRIES[index]
    msg = message_from_tagged(entry["message"])
    assert msg.to_json_bytes() == entry["json"].encode("utf-8")


@pytest.mark.parametrize("index", range(len(ENTRIES)))
def test_the_mirror_reads_what_noob_wrote_as_noob_read_it(backend: Backend, index: int) -> None:
    entry = ENTRIES[index]
    data = entry["json"].encode("utf-8")
    ours = backend.decode([b"topic", data])
    assert json.loads(ours.model_dump_json()) == entry["read_back"]
    assert ours.to_json_bytes() == data
