"""Writes the golden vectors of wire-format version 2 (noob 1003.x) that do not exist yet.

Needs noob 1003.x installed (the test extra installs it): the messages are noob's own. ``CATALOGUE``:
frames and the message each decodes to (``tests/vectors/v2/NAME.json``, typed JSON as ``tagged.py``
describes, with ``$epoch``, ``$meta_signal`` and ``$model``). ``REJECTED``: version-2 frames every decoder
of that generation must refuse with a ``DecodeError`` (``tests/vectors/v2/rejected/NAME.json``). A vector,
once written, is the format: this script never rewrites one. Run from the repository root:

    python tests/vectors/generate_v2.py
"""

from __future__ import annotations

import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack

HERE = Path(__file__).parent / "v2"
sys.path.insert(0, str(HERE.parent.parent))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # noob warns about its runtime directory on import
    import noob.network.message as noob_message
    from noob.event import MetaEventType, MetaSignal
    from noob.tube import TubeSpecification
    from noob_core import Epoch

from noobwire.generations import NOOB_1003  # noqa: E402
from tagged import write_vectors  # noqa: E402

T = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
ROOT = Epoch(42)
PATH = Epoch(42) / ("map", 1) / ("gather", 0)


def _event(
    value: Any, epoch: Any = ROOT, signal: str = "value", node_id: str = "cam", event_id: int = 7
) -> dict:
    return {
        "id": event_id,
        "timestamp": T,
        "node_id": node_id,
        "signal": signal,
        "epoch": epoch,
        "value": value,
    }


def _events(*events: dict) -> Any:
    return noob_message.EventMsg(node_id="cam", timestamp=T, value=list(events))


IDENTIFY = {
    "node_id": "cam",
    "outbox": "ipc:///tmp/noob/cam",
    "status": "ready",
    "signals": ["frame"],
    "slots": None,
    "subscribed_to": ["source"],
    "subscribers": ["sink", "command"],
}

SPEC = {
    "noob_id": "testing-vector",
    "description": "a tube without nodes: its JSON is the same on every Python",
}

CATALOGUE: dict[str, tuple[str, Any]] = {
    "msg_event_root_epochs": (
        "events of a root epoch (an int on the wire)",
        lambda: _events(
            _event(1234, signal="frame_index", event_id=0), _event(0.5, signal="mean", event_id=1)
        ),
    ),
    "msg_event_sub_epochs": (
        "events of a two-level sub-epoch ([root, [node_id, n], ...] on the wire)",
        lambda: _events(_event("ok", PATH, event_id=0), _event([1.0, 2.0], PATH, event_id=1)),
    ),
    "msg_event_meta_event": (
        "a meta event (node_id 'meta', its signal a MetaEventType)",
        lambda: _events(_event("cam", node_id="meta", signal=MetaEventType.NodeReady)),
    ),
    "value_noevent": (
        "MetaSignal.NoEvent (EXT_META_SIGNAL, empty payload)",
        lambda: _events(_event(MetaSignal.NoEvent)),
    ),
    "value_exhausted": (
        "MetaSignal.Exhausted (EXT_META_SIGNAL naming the member)",
        lambda: _events(_event(MetaSignal.Exhausted)),
    ),
    "value_tuple": (
        "a tuple, kept a tuple (noob's JSON makes it a list)",
        lambda: _events(_event((1, (2, 3)))),
    ),
    "msg_process": (
        "a process message of a root epoch",
        lambda: noob_message.ProcessMsg(
            node_id="command", timestamp=T, value={"epoch": ROOT, "input": {"gain": 2, "name": "x"}}
        ),
    ),
    "msg_process_epoch_none": (
        "a process message whose epoch is None (the receiver decides)",
        lambda: noob_message.ProcessMsg(node_id="command", timestamp=T, value={"epoch": None, "input": None}),
    ),
    "msg_epoch_ended": (
        "an epoch_ended message of a sub-epoch",
        lambda: noob_message.EpochEndedMsg(node_id="command", timestamp=T, value=PATH),
    ),
    "msg_epoch_ended_root": (
        "an epoch_ended message of a root epoch",
        lambda: noob_message.EpochEndedMsg(node_id="command", timestamp=T, value=ROOT),
    ),
    "msg_identify": (
        "an identify message with the fields noob 1003 added",
        lambda: noob_message.IdentifyMsg(node_id="cam", timestamp=T, value=IDENTIFY),
    ),
    "msg_announce": (
        "an announce message",
        lambda: noob_message.AnnounceMsg(
            node_id="command",
            timestamp=T,
            value={"inbox": "ipc:///tmp/noob/inbox", "nodes": {"cam": IDENTIFY}},
        ),
    ),
    "msg_spec": (
        "a spec message: the tube specification as the JSON its class writes",
        lambda: noob_message.SpecMsg(node_id="testing-vector", timestamp=T, value=TubeSpecification(**SPEC)),
    ),
    "msg_status": (
        "a status message",
        lambda: noob_message.StatusMsg(node_id="cam", timestamp=T, value="running"),
    ),
    "msg_start": ("a start message", lambda: noob_message.StartMsg(node_id="command", timestamp=T, value=10)),
    "msg_stop": ("a stop message", lambda: noob_message.StopMsg(node_id="command", timestamp=T)),
    "msg_error": (
        "an error message",
        lambda: noob_message.ErrorMsg(
            node_id="cam",
            timestamp=T,
            value={"err_type": ValueError, "err_args": ("bad", 3), "traceback": "Traceback\n"},
        ),
    ),
}

_TS = msgpack.Timestamp(0, 0)


def _frame(type_name: str, value: Any) -> str:
    frame = [2, NOOB_1003.type_codes[type_name], 0, "n", _TS, value]
    return msgpack.packb(frame, use_bin_type=True).hex()


def _one_event(epoch: Any = 3, node_id: str = "n", signal: str = "s", value: Any = None) -> str:
    return _frame("event", [[1, _TS, node_id, signal, epoch, value]])


REJECTED: dict[str, tuple[str, str]] = {
    "epoch_root_too_large": ("a root epoch beyond noob_core's range (2**32)", _one_event(2**32)),
    "epoch_negative": ("a negative root epoch", _one_event(-1)),
    "epoch_str": ("an epoch that is a str", _one_event("3")),
    "epoch_empty_path": ("an epoch that is an empty array", _one_event([])),
    "epoch_segment_not_a_pair": ("a sub-epoch that is not [node_id, n]", _one_event([3, ["map"]])),
    "epoch_segment_int_node": ("a sub-epoch whose node is not a str", _one_event([3, [1, 2]])),
    "epoch_root_not_int": ("a path whose root is a [node_id, n] pair", _one_event([["tube", 3]])),
    "meta_event_unknown_signal": (
        "a meta event whose signal is no MetaEventType",
        _one_event(node_id="meta", signal="Bogus"),
    ),
    "meta_signal_unknown_name": (
        "a meta signal extension naming no member",
        _one_event(value=msgpack.ExtType(6, b"Bogus")),
    ),
    "meta_signal_noevent_by_name": (
        "NoEvent written by name (its form is the empty payload)",
        _one_event(value=msgpack.ExtType(6, b"NoEvent")),
    ),
    "identify_reference_fields": (
        "an identify value of the reference's five fields",
        _frame("identify", ["cam", "ipc://x", "ready", None, None]),
    ),
    "spec_not_json": ("a spec message whose value is not JSON text", _frame("spec", {"noob_id": "x"})),
    "spec_bad_json": ("a spec message whose JSON its class refuses", _frame("spec", '{"nodes": 3}')),
    "process_epoch_float": ("a process message whose epoch is a float", _frame("process", [1.5, None])),
    "version_1_frame": (
        "a frame of wire-format version 1 (the reference)",
        msgpack.packb([1, 5, 0, "n", _TS, None], use_bin_type=True).hex(),
    ),
}


def main() -> None:
    write_vectors(HERE, CATALOGUE, REJECTED, NOOB_1003)


if __name__ == "__main__":
    main()
