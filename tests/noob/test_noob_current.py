"""noobwire.noob.install() with the noob that is installed: noob 1003.x from the test extra (CI also runs
this file with noob 1000.0.0, 1001.0.0 and 1002.0.0 installed): it is recognised as its generation,
the generation's description matches it field by field, every message type crosses into noob's own
classes, and noob's own ZeroMQ runner gives the same results with noobwire installed as without, every
frame it sends being noobwire's."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgpack
import pytest
from installed_noob import GENERATION, NOOB_VERSION, noob_message
from noob_nodes import Opaque

import noobwire
from helpers import assert_same
from noobwire import Codec, DecodeError, EncodeError
from noobwire.layout import Kind, Nullable
from noobwire.noob import active_installation, install, uninstall
from noobwire.noob.compat import recognize, schema_differences

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # noob warns about its runtime directory on import
    import noob.event as noob_event
    from noob import Tube

T = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
Epoch = GENERATION.epoch_class


@pytest.fixture(autouse=True)
def _never_left_installed() -> Iterator[None]:
    yield
    uninstall()


# --- which generation, and what it describes ----------------------------------------------------------


def test_the_installed_noob_is_recognised_as_its_generation() -> None:
    recognition = recognize(noob_message)
    assert recognition.generation is not None, recognition.differences
    assert recognition.generation.name == GENERATION.name
    assert schema_differences(noob_message, GENERATION) == []


def test_the_description_matches_the_installed_noob_field_by_field() -> None:
    assert [member.value for member in noob_message.MessageType] == list(GENERATION.type_names)
    for layout in GENERATION.messages:
        cls = getattr(noob_message, layout.cls)
        assert cls.model_fields["type_"].default == layout.type
        assert issubclass(cls, noob_message.Message)
    typeddicts = {
        "event": [noob_event.Event, noob_event.MetaEvent],
        "process": [noob_message.ProcessValue],
        "identify": [noob_message.IdentifyValue],
        "announce": [noob_message.AnnounceValue],
        "error": [noob_message.ErrorValue],
    }
    for type_name, classes in typeddicts.items():
        record = GENERATION.messages[GENERATION.type_codes[type_name]].record
        for typeddict in classes:
            assert list(typeddict.__annotations__) == list(record.keys), typeddict
    process = GENERATION.messages[GENERATION.type_codes["process"]].record
    epoch_kind = process.fields[process.index("epoch")].shape
    optional = type(None) in getattr(noob_message.ProcessValue.__annotations__["epoch"], "__args__", ())
    assert epoch_kind is (Kind.OPTIONAL_EPOCH if optional else Kind.EPOCH)
    identify = GENERATION.messages[GENERATION.type_codes["identify"]].record
    assert [isinstance(item.shape, Nullable) for item in identify.fields] == [
        type(None) in getattr(noob_message.IdentifyValue.__annotations__[key], "__args__", ())
        for key in identify.keys
    ]
    assert Epoch is noob_message.Epoch
    assert GENERATION.meta_signal_enum is noob_event.MetaSignal
    assert ("spec" in GENERATION.type_codes) == hasattr(noob_message, "SpecMsg")


# --- every message type, into noob's own classes ------------------------------------------------------


def _epochs() -> tuple[Any, Any]:
    root = Epoch(42)
    return root, root / ("map", 1) / ("gather", 0)


def _identify() -> dict[str, Any]:
    base: dict[str, Any] = {"node_id": "cam", "outbox": "ipc:///tmp/cam", "status": "ready"}
    base.update(signals=["frame"], slots=None)
    return {key: base.get(key, ["sink"]) for key in noob_message.IdentifyValue.__annotations__}


def _messages() -> list[Any]:
    """One of each message type of the installed noob, built (and validated) by noob's own classes."""
    m = noob_message
    root, path = _epochs()
    event = {"id": 1, "timestamp": T, "node_id": "cam", "signal": "frame", "epoch": root, "value": [1.5, "x"]}
    msgs = [
        m.EventMsg(
            node_id="cam",
            timestamp=T,
            value=[
                event,
                {**event, "id": 2, "epoch": path, "value": {"a": 1}},
                {**event, "id": 3, "value": noob_event.MetaSignal.NoEvent},
                {**event, "id": 4, "node_id": "meta", "signal": noob_event.MetaEventType.NodeReady},
            ],
        ),
        m.ProcessMsg(node_id="command", timestamp=T, value={"epoch": path, "input": {"gain": 2}}),
        m.EpochEndedMsg(node_id="command", timestamp=T, value=path),
        m.IdentifyMsg(node_id="cam", timestamp=T, value=_identify()),
        m.AnnounceMsg(
            node_id="command", timestamp=T, value={"inbox": "ipc:///x", "nodes": {"cam": _identify()}}
        ),
        m.StatusMsg(node_id="cam", timestamp=T, value="ready"),
        m.StartMsg(node_id="command", timestamp=T, value=5),
        m.StopMsg(node_id="command", timestamp=T),
        m.PingMsg(node_id="command", timestamp=T),
        m.InitMsg(node_id="command", timestamp=T),
        m.DeinitMsg(node_id="command", timestamp=T),
        m.ErrorMsg(
            node_id="cam", timestamp=T, value={"err_type": KeyError, "err_args": ("k",), "traceback": "tb"}
        ),
    ]
    if hasattr(m, "SpecMsg"):
        from noob.tube import TubeSpecification

        spec = TubeSpecification(noob_id="tube", description="no nodes")
        msgs.append(m.SpecMsg(node_id="tube", timestamp=T, value=spec))
    if "Exhausted" in noob_event.MetaSignal.__members__:
        msgs.append(m.ProcessMsg(node_id="command", timestamp=T, value={"epoch": None, "input": None}))
    return msgs


def _same(expected: Any, actual: Any) -> None:
    assert type(actual) is type(expected)
    assert (actual.type_, actual.node_id) == (expected.type_, expected.node_id)
    assert_same(expected.timestamp, actual.timestamp)
    if hasattr(expected.value, "model_dump_json"):
        assert actual.value.model_dump_json() == expected.value.model_dump_json()
    else:
        assert_same(expected.value, actual.value)


@pytest.mark.parametrize("msg", _messages(), ids=lambda msg: msg.type_)
def test_every_message_type_crosses_into_noobs_own_classes(msg: Any) -> None:
    their_frame = msg.to_bytes()  # noob's own JSON, before install()
    theirs = noob_message.Message.from_bytes([their_frame])
    with install() as installation:
        assert installation.generation.version == GENERATION.version
        frame = msg.to_bytes()
        assert frame[:2] == bytes([0x96, GENERATION.version])
        ours = noob_message.Message.from_bytes([b"topic", frame])
        from_json = noob_message.Message.from_bytes([their_frame])  # an unpatched peer's frame
    _same(msg, ours)
    _same(theirs, from_json)
    if msg.type_ != "event":  # (noob's JSON keeps no NoEvent member in a meta event, nor tuples)
        _same(theirs, ours)


def test_both_backends_write_the_same_frames_of_the_installed_generation() -> None:
    pytest.importorskip("noobwire._core.compiled", reason="the compiled extension is not built")
    pure, compiled = (Codec(generation=GENERATION, backend=name) for name in ("pure", "compiled"))
    for msg in _messages():
        frame = pure.encode(msg)
        assert compiled.encode(msg) == frame
        _same(pure.decode(frame), compiled.decode(frame))


def test_meta_signals_and_epochs_are_noobs_own() -> None:
    with install():
        msg = noob_message.Message.from_bytes([_messages()[0].to_bytes()])
    root, path = _epochs()
    assert type(msg.value[0]["epoch"]) is Epoch
    assert msg.value[0]["epoch"] == root
    assert msg.value[1]["epoch"] == path
    assert msg.value[2]["value"] is noob_event.MetaSignal.NoEvent
    assert msg.value[3]["signal"] == "NodeReady"


def test_a_frame_of_another_generation_is_refused_saying_whose() -> None:
    reference_frame = noobwire.StatusMsg(node_id="cam", value="ready").to_bytes()
    with install(), pytest.raises(DecodeError, match="version 1 here: it is the reference schema"):
        noob_message.Message.from_bytes([reference_frame])


def test_a_codec_of_a_generation_this_noob_is_not_is_refused_when_made() -> None:
    # Before: Codec(generation=NOOB_1000) beside noob 1003 was made, then every frame failed with an
    # OverflowError or AttributeError from noob's epoch classes rather than a DecodeError.
    from noobwire.generations import GENERATIONS

    Codec(generation=GENERATION)
    others = [generation for generation in GENERATIONS[1:] if generation.version != GENERATION.version]
    refused = [generation for generation in others if generation.unresolved()]
    assert refused, "every other generation of noob names something this noob lacks"
    for generation in refused:
        with pytest.raises(ValueError, match=f"the {generation.name} generation does not describe"):
            Codec(generation=generation)


def test_with_pickle_off_a_json_frame_with_a_pickle_is_refused() -> None:
    msg = noob_message.EventMsg(
        node_id="cam", timestamp=T, value=[{**_messages()[0].value[0], "value": Opaque("frame")}]
    )
    json_frame = msg.to_bytes()
    assert b'"pck__' in json_frame
    codec = Codec(generation=GENERATION, allow_pickle=False)
    with pytest.raises(DecodeError, match="pickle is off"):
        codec.decode(json_frame)
    assert Codec(generation=GENERATION).decode(json_frame).value[0]["value"] == Opaque("frame")


def test_uninstall_gives_noob_its_own_codec_back() -> None:
    before = dict(vars(noob_message.Message))
    install()
    assert active_installation() is not None
    assert noob_message.Message.to_bytes is not before["to_bytes"]
    uninstall()
    assert dict(vars(noob_message.Message)) == before


def test_the_startup_hook_installs_in_a_new_interpreter() -> None:
    script = (
        "import warnings; warnings.simplefilter('ignore');"
        "import noob.network.message as m, noobwire.noob;"
        "print(noobwire.noob.active_installation().generation.version);"
        "print(m.StatusMsg(node_id='a', value='ready').to_bytes()[:2].hex())"
    )
    env = {**os.environ, "NOOBWIRE_INSTALL": "1"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    version = GENERATION.version
    assert done.stdout.split() == [str(version), f"96{version:02x}"]


# --- noob's own ZeroMQ runner ---------------------------------------------------------------------------


SOURCE = "noob_nodes.frame_rows" if NOOB_VERSION.startswith("1000.") else "noob_nodes.frames"
"""noob 1000.x's own scheduler cannot carry numpy arrays (see noob_nodes.frame_rows)."""

PIPELINE = {
    "noob_id": "noobwire-current",
    "nodes": {
        "source": {"type": SOURCE},
        "total": {"type": "noob_nodes.total", "depends": [{"frame": "source.frame"}]},
        "pair": {"type": "noob_nodes.paired", "depends": [{"frame": "source.frame"}]},
        "words": {"type": "noob_nodes.words"},
        "each": {"type": "map", "depends": [{"value": "words.words"}]},
        "shout": {"type": "noob_nodes.shout", "depends": [{"word": "each.value"}]},
        "collect": {"type": "gather", "depends": [{"value": "shout.value"}, {"n": "each.n"}]},
        "joined": {"type": "noob_nodes.join", "depends": [{"strings": "collect.value"}]},
        "out": {
            "type": "return",
            "depends": [
                {"frame": "source.frame"},
                {"total": "total.value"},
                {"pair": "pair.value"},
                {"joined": "joined.value"},
            ],
        },
    },
}


if NOOB_VERSION.startswith("1000."):  # its runner fails on a node that returns a tuple, noobwire or not
    del PIPELINE["nodes"]["pair"]
    PIPELINE["nodes"]["out"]["depends"] = [
        item for item in PIPELINE["nodes"]["out"]["depends"] if "pair" not in item
    ]


def _tube(spec: dict[str, Any]) -> Any:
    from noob.tube import TubeSpecification

    return Tube.from_specification(TubeSpecification.model_validate(spec))  # (noob before 1002 takes no dict)


def _run_pipeline(epochs: int, runner_class: Any = None) -> list[Any]:
    from noob.runner.zmq import ZMQRunner

    with (runner_class or ZMQRunner)(_tube(PIPELINE)) as runner:
        return runner.run(n=epochs)


def test_a_zmq_runner_pipeline_gives_the_same_results_with_noobwire() -> None:
    from noob.runner import SynchronousRunner

    # The reference: noob's own runner of one process (no sockets, no codec). noob's ZeroMQ runner alone
    # is not one: on Python 3.13 about one run in twelve of it fails by itself, a node process that locks
    # up when forked while the command node's thread serializes, or a result without its gathered value.
    alone = _run_pipeline(4, SynchronousRunner)
    received: list[bytes] = []
    with install(json_fallback=False) as installation:  # a JSON frame anywhere would be refused
        patched = noob_message.Message.from_bytes.__func__

        def recording(cls: type, msg: Any) -> Any:
            header = msg[-1]  # bytes, or a zmq.Frame where noobwire's runner hook received it
            received.append(bytes(getattr(header, "buffer", header)[:2]))
            return patched(cls, msg)

        noob_message.Message.from_bytes = classmethod(recording)
        try:
            with_noobwire = _run_pipeline(4)
        finally:
            noob_message.Message.from_bytes = classmethod(patched)
        version = installation.generation.version
    assert len(with_noobwire) == len(alone) == 4
    for theirs, ours in zip(alone, with_noobwire, strict=True):
        assert_same(theirs["frame"], ours["frame"])
        assert ours["total"] == theirs["total"]
        assert ours["joined"] == theirs["joined"]
        assert ours["joined"].isupper()
        if "pair" in theirs:  # noob's JSON would make the inner tuple a list; noobwire keeps it a tuple
            assert ours["pair"] == theirs["pair"] == (int(ours["frame"][0][0]), (6, 4))
    assert received, "the command node received nothing"
    assert set(received) == {bytes([0x96, version])}, "every frame the command node received is noobwire's"


def test_a_node_error_crosses_as_noobs_own_error_message() -> None:
    from noob.runner.zmq import ZMQRunner

    spec = {
        "noob_id": "noobwire-error",
        "nodes": {
            "source": {"type": SOURCE},
            "total": {"type": "noob_nodes.total", "depends": [{"frame": "source.frame"}]},
            "limit": {"type": "noob_nodes.fail_late", "depends": [{"value": "total.value"}]},
            "out": {"type": "return", "depends": [{"value": "limit.value"}]},
        },
    }
    with (
        install(),
        ZMQRunner(_tube(spec)) as runner,
        pytest.raises(ValueError, match="over the limit") as caught,
    ):
        _process_until_it_raises(runner)
    assert "Error re-raised from node runner process" in caught.value.__notes__[0]


def _process_until_it_raises(runner: Any, epochs: int = 10, seconds: float = 60) -> None:
    """``runner.process()`` until it raises, in a thread of its own: noob's ``process()`` waits without a
    timeout, so an error message lost on its way would otherwise hold the whole run."""
    raised: list[BaseException] = []

    def process() -> None:
        try:
            for _ in range(epochs):
                runner.process()
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=process, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"runner.process() still waits after {seconds} s: the error never came"
    if raised:
        raise raised[0]


# --- epochs: the compiled backend's own paths against the pure one's -------------------------------------

U32_MAX = 2**32 - 1


def _epoch(root: int, *segments: tuple[str, int]) -> Any:
    epoch = Epoch(root)
    for segment in segments:
        epoch = epoch / segment
    return epoch


EPOCHS = {
    "root 0": _epoch(0),
    "root max": _epoch(U32_MAX),
    "one sub-epoch": _epoch(3, ("map", 1)),
    "numbers at the bounds": _epoch(U32_MAX, ("a", 0), ("b", U32_MAX)),
    "non-ASCII node ids": _epoch(1, ("kamera_é", 2), ("ß", 3)),  # (noob 1000-1001: identifiers only)
    "deep": _epoch(5, *((f"n{i}", i) for i in range(40))),
}


def _event_msg(*epochs: Any) -> Any:
    event = {"timestamp": T, "node_id": "cam", "signal": "frame", "value": 1}
    return noob_message.EventMsg(
        node_id="cam",
        timestamp=T,
        value=[{**event, "id": i, "epoch": epoch} for i, epoch in enumerate(epochs)],
    )


def _codecs() -> tuple[Codec, Codec]:
    pytest.importorskip("noobwire._core.compiled", reason="the compiled extension is not built")
    return Codec(generation=GENERATION, backend="pure"), Codec(generation=GENERATION, backend="compiled")


@pytest.mark.parametrize("name", list(EPOCHS))
def test_an_epoch_crosses_both_backends_alike(name: str) -> None:
    pure, compiled = _codecs()
    epoch = EPOCHS[name]
    # The same epoch object twice (as noob's store shares it), then an equal one of its own.
    msg = _event_msg(epoch, epoch, _epoch(0) if epoch == _epoch(0) else epoch / ("x", 1))
    frame = pure.encode(msg)
    assert compiled.encode(msg) == frame
    for codec in (pure, compiled):
        decoded = codec.decode(frame)
        assert [type(event["epoch"]) for event in decoded.value] == [Epoch] * 3
        assert [event["epoch"] for event in decoded.value] == [event["epoch"] for event in msg.value]


@pytest.mark.parametrize("where", [0, 1])
def test_an_event_without_an_epoch_is_refused_by_both(where: int) -> None:
    # The pure encoder once wrote nil for a first event whose epoch was None (its cache of the last
    # epoch started out as None, and None was "the same epoch"); the compiled one refused it.
    pure, compiled = _codecs()
    msg = _event_msg(_epoch(1), _epoch(1))
    msg.value[where]["epoch"] = None  # (after validation, as a node runner's events are appended)
    for codec in (pure, compiled):
        with pytest.raises(EncodeError, match=rf"value\[{where}\]\['epoch'\]"):
            codec.encode(msg)


TEMPLATE_EPOCH = msgpack.packb([42, ["zz", 7]])

EPOCH_WIRE_FORMS: list[Any] = [
    7,
    [7],
    [7, ["a", 1]],
    [7, ["a", 1], ["b", U32_MAX]],
    [U32_MAX + 1],
    [7, ["a", U32_MAX + 1]],
    [7, ["a", -1]],
    [-1, ["a", 1]],
    [7, ["a", True]],
    [True, ["a", 1]],
    [7, ["a", 1.0]],
    [7, ["a"]],
    [7, ["a", 1, 2]],
    [7, [1, 1]],
    [7, [b"a", 1]],
    [7, "a"],
    ["tube", ["a", 1]],
    [["tube", 7], ["a", 1]],
    [],
    [None],
    [7, None],
    [2**64 - 1, ["a", 1]],
    [200, ["a", 70_000], ["b", 2**31]],  # the number encodings of 8, 16 and 32 bits
    [7, ["n" * 25, 1]],  # a node id longer than the decoder's string cache takes
    [7, ["kamera_é", 1]],
    [7, *(["s", i] for i in range(20))],  # an array of 16 bits' length
]


EPOCH_WIRE_BYTES = {
    "a node id of invalid UTF-8": bytes.fromhex("9207 92a2fffe 01"),
    "a node id cut short": bytes.fromhex("9207 92a5 6162"),
    "a number cut short": bytes.fromhex("9207 92a161 ce0000"),
    "a segment of a 16-bit array header": bytes.fromhex("9207 dc0002a16101"),
    "a root of 64 bits that fits": bytes.fromhex("92 cf0000000000000007 92a16101"),
}


@pytest.mark.parametrize(
    "wire_bytes",
    [msgpack.packb(wire) for wire in EPOCH_WIRE_FORMS] + list(EPOCH_WIRE_BYTES.values()),
    ids=[repr(wire) for wire in EPOCH_WIRE_FORMS] + list(EPOCH_WIRE_BYTES),
)
def test_an_epoch_wire_form_is_read_or_refused_alike(wire_bytes: bytes) -> None:
    pure, compiled = _codecs()
    template = pure.encode(_event_msg(_epoch(42, ("zz", 7))))
    assert template.count(TEMPLATE_EPOCH) == 1
    frame = template.replace(TEMPLATE_EPOCH, wire_bytes)
    outcomes = []
    for codec in (pure, compiled):
        try:
            decoded = codec.decode(frame)
        except DecodeError as error:
            outcomes.append(("refused", str(error)))
        else:
            epoch = decoded.value[0]["epoch"]
            outcomes.append(("read", type(epoch), epoch, pure.encode(decoded)))
    assert outcomes[0] == outcomes[1]
