"""Pickle off through noob's own classes: a hostile peer's values, followed past the decoder.

Each test takes one validator, computed field or custom type of the installed noob's message classes
(the table of ``docs/guide/security.md``) and hands it what a hostile peer would, on both backends,
with pickle off: nothing may be unpickled, imported or touched on disk, whether noobwire decodes the
frame, noob validates its values again (a node publishing what it received), or prints it. CI runs this
file with each published noob (1000.0.0, 1001.0.0, 1002.0.0 and 1003.0.2); what only noob 1003 has
(``SpecMsg``) is tested where it exists.
"""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from installed_noob import GENERATION, noob_message
from pydantic import ValidationError

from noobwire import Codec, DecodeError, EncodeError, SchemaError
from noobwire._core import epochs
from noobwire.codec import Backend
from noobwire.noob import install, uninstall

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # noob warns about its runtime directory on import
    from noob.event import MetaEventType

T = datetime(2026, 1, 1, tzinfo=UTC)
PREFIX = "pck__"


class Touches:
    """Unpickled, it creates a file: the proof that a pickle ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.path,))


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "a pickle ran"
    yield path
    assert not path.exists(), "a pickle ran"


@pytest.fixture(autouse=True)
def _never_left_installed() -> Iterator[None]:
    yield
    uninstall()


def pickled_str(marker: Path) -> str:
    return PREFIX + base64.b64encode(pickle.dumps(Touches(marker))).decode()


def epoch(number: int) -> Any:
    return epochs.epoch_from_wire(GENERATION, number, "epoch")


def event(value: Any, **fields: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "timestamp": T,
        "node_id": "cam",
        "signal": "s",
        "epoch": epoch(3),
        "value": value,
        **fields,
    }


def event_msg(*events: dict[str, Any]) -> Any:
    """noob's own EventMsg, built without validation (noob's validators would unpickle a pck__ str)."""
    return noob_message.EventMsg.model_construct(node_id="cam", timestamp=T, value=list(events))


def trusted_frame(msg: Any) -> bytes:
    """``msg`` as a peer with pickle on writes it."""
    return Codec(generation=GENERATION).encode(msg)


def locked(backend: Backend) -> Codec:
    return Codec(generation=GENERATION, allow_pickle=False, backend=backend.name)


# --- Picklable (Event.value, MetaEvent.value, ErrorMsg.value): unpickles any str beginning pck__ --------

PLACES = {
    "an event's value": lambda s: event_msg(event(s)),
    "a meta event's value": lambda s: event_msg(
        event(s, node_id="meta", signal=next(iter(MetaEventType)).value)
    ),
    "an item of an event's value": lambda s: event_msg(event([1, {"k": s}])),
    "a key of an event's value": lambda s: event_msg(event({s: 1})),
    "an element of a set": lambda s: event_msg(event(frozenset({s}))),
    "an event's signal": lambda s: event_msg(event(1, signal=s)),
    "a message's node_id": lambda s: noob_message.EventMsg.model_construct(node_id=s, timestamp=T, value=[]),
    "a process message's input": lambda s: noob_message.ProcessMsg.model_construct(
        node_id="command", timestamp=T, value={"epoch": epoch(1), "input": {"x": [s]}}
    ),
    "an error's arguments": lambda s: noob_message.ErrorMsg.model_construct(
        node_id="cam", timestamp=T, value={"err_type": ValueError, "err_args": (s,), "traceback": ""}
    ),
    "an item of a numpy str array": lambda s: event_msg(event(np.array(["ok", s]))),
    # bytes travel as bytes, but the reference JSON (noob's own to_bytes) writes them as a str:
    "a bytes value": lambda s: event_msg(event(s.encode())),
    "a bytearray in a list": lambda s: event_msg(event([bytearray(s.encode())])),
    "a numpy str scalar": lambda s: event_msg(event(np.str_(s))),
    # numpy's bytes too: noob's JSON (and the reference's) writes a bytes_ as the str of its UTF-8
    "a numpy bytes scalar": lambda s: event_msg(event(np.bytes_(s.encode()))),
    "an item of a numpy bytes array": lambda s: event_msg(event(np.array([b"ok", s.encode()]))),
    "a bytes field of a structured array": lambda s: event_msg(
        event(np.array([(1, s.encode())], dtype=[("a", "<i4"), ("b", "S200")]))
    ),
    "a field of a structured array": lambda s: event_msg(
        event(np.array([(1, s)], dtype=[("a", "<i4"), ("b", "U200")]))
    ),
}


@pytest.mark.parametrize("place", list(PLACES))
def test_a_pck_str_anywhere_is_refused_with_pickle_off(backend: Backend, marker: Path, place: str) -> None:
    # Before: decoded as the str it is; then noob's Picklable unpickled it when a node put it in a new
    # EventMsg (publish_events), or directly when it was an event's value.
    msg = PLACES[place](pickled_str(marker))
    with pytest.raises(DecodeError, match="take for a pickle"):
        locked(backend).decode(trusted_frame(msg))
    with pytest.raises(EncodeError, match="take for a pickle"):
        locked(backend).encode(msg)


def test_a_pck_str_decodes_as_itself_with_pickle_on(backend: Backend, marker: Path) -> None:
    text = pickled_str(marker)
    back = Codec(generation=GENERATION, backend=backend.name).decode(trusted_frame(event_msg(event(text))))
    assert back.value[0]["value"] == text


def test_a_pck_not_at_the_start_is_fine(backend: Backend, marker: Path) -> None:
    text = pickled_str(marker)
    msg = event_msg(event("x" + text), event(np.array(["x" + text])), event(("x" + text).encode()))
    back = locked(backend).decode(locked(backend).encode(msg))
    assert back.value[0]["value"] == "x" + text
    assert back.value[2]["value"] == ("x" + text).encode()


def test_a_pck_str_in_a_legacy_json_frame_is_refused_with_pickle_off(backend: Backend, marker: Path) -> None:
    text = pickled_str(marker)
    frame = json.dumps(
        {"type": "event", "node_id": "cam", "timestamp": "2026-01-01T00:00:00Z", "value": [{"x": text}]}
    ).encode()
    escaped = frame.replace(b'"pck__', b'"\\u0070ck__')  # the same str, one letter escaped
    for data in (frame, escaped):
        with pytest.raises(DecodeError, match="pickle is off"):
            locked(backend).decode(data)


def test_installed_with_pickle_off_noob_builds_no_pickle_from_a_str(marker: Path) -> None:
    # noob's NodeRunner.publish_events builds EventMsg(value=events) from what its node returned, and
    # a node may return a str it received or made: noob's Picklable would unpickle it there.
    text = pickled_str(marker)
    with install(allow_pickle=False, zero_copy=False):
        with pytest.raises(ValidationError, match="not unpickled"):
            noob_message.EventMsg(node_id="cam", value=[event(text)])
        with pytest.raises(ValidationError, match="not unpickled"):
            noob_message.ErrorMsg(node_id="cam", value=text)
        assert noob_message.EventMsg(node_id="cam", value=[event("fine")]).value[0]["value"] == "fine"
    assert not marker.exists()
    noob_message.EventMsg(node_id="cam", value=[event(text)])  # uninstalled: noob's own behaviour is back
    assert marker.exists()
    marker.unlink()


def test_installed_with_pickle_on_changes_nothing_of_noob_s_own(marker: Path) -> None:
    with install(allow_pickle=True, zero_copy=False) as installation:
        assert installation.guards == []
        noob_message.EventMsg(node_id="cam", value=[event(pickled_str(marker))])
    assert marker.exists()
    marker.unlink()


def test_a_refusal_names_a_deep_place_in_a_few_hundred_characters(backend: Backend, marker: Path) -> None:
    value: Any = pickled_str(marker)
    for _ in range(900):
        value = {"k" * 40: value}
    with pytest.raises(DecodeError) as info:
        locked(backend).decode(trusted_frame(event_msg(event(value))))
    assert len(str(info.value)) < 1024


def test_a_json_frame_holds_only_what_a_noobwire_frame_can(backend: Backend) -> None:
    # noob's lax JSON took an epoch deeper than the generation's (noob's Epoch.parents then cost the
    # square of its levels): decoded, it could not be written again.
    assert GENERATION.epochs is not None
    levels = GENERATION.epochs.max_levels + 1
    deep = noob_message.EpochEndedMsg.model_construct(
        node_id="command", timestamp=T, value=_deep_epoch(levels)
    )
    text = deep.model_dump_json(by_alias=True).encode()  # noob's own JSON of it
    for codec in (locked(backend), Codec(generation=GENERATION, backend=backend.name)):
        with pytest.raises(SchemaError, match="cannot be written as a noobwire frame"):
            codec.decode(text)


# --- ErrorMsg: its value, its class (to_exception calls it) ---------------------------------------------


def _error_frame(value: Any) -> bytes:
    return msgpack.packb(
        [GENERATION.version, GENERATION.type_codes["error"], 0, "cam", msgpack.Timestamp(0), value]
    )


def test_an_error_value_that_is_a_pck_str_is_refused(backend: Backend, marker: Path) -> None:
    with pytest.raises(SchemaError, match="must be an array of 3 fields"):
        locked(backend).decode(_error_frame(pickled_str(marker)))


def test_an_error_s_class_is_a_builtin_or_registered_one(backend: Backend) -> None:
    name = msgpack.ExtType(9, b"os:system")
    with pytest.raises(DecodeError, match="refused exception class"):
        locked(backend).decode(_error_frame([name, ["echo"], "tb"]))
    msg = locked(backend).decode(_error_frame([msgpack.ExtType(9, b"builtins:KeyError"), ["k"], "tb"]))
    assert isinstance(msg, noob_message.ErrorMsg)
    assert type(msg.to_exception()) is KeyError


# --- the callable discriminators: what is not a message or an event --------------------------------------

NOT_MESSAGES = [b"[1, 2]", b'"x"', b'{"type": [1]}', b'{"type": {}}']


@pytest.mark.parametrize("data", NOT_MESSAGES)
def test_json_that_is_not_a_message_is_a_decode_error(backend: Backend, data: bytes) -> None:
    # noob's discriminators raise AttributeError and TypeError on these, not a ValidationError.
    for codec in (locked(backend), Codec(generation=GENERATION, backend=backend.name)):
        with pytest.raises(DecodeError):
            codec.decode(data)


@pytest.mark.parametrize("item", [[1, 2], "x", None, 5])
def test_events_that_are_not_events_are_refused(backend: Backend, item: Any) -> None:
    frame = msgpack.packb(
        [GENERATION.version, GENERATION.type_codes["event"], 0, "cam", msgpack.Timestamp(0), [item]]
    )
    with pytest.raises(SchemaError):
        locked(backend).decode(frame)
    text = json.dumps({"type": "event", "node_id": "n", "timestamp": "2026-01-01T00:00:00Z", "value": [item]})
    with pytest.raises(DecodeError):
        locked(backend).decode(text.encode())


# --- the epoch type: its numbers' range, and how deep it goes ------------------------------------------


def _epoch_frame(wire: Any) -> bytes:
    return msgpack.packb(
        [GENERATION.version, GENERATION.type_codes["epoch_ended"], 0, "command", msgpack.Timestamp(0), wire]
    )


def _deep_epoch(levels: int) -> Any:
    """An epoch object of ``levels`` levels, made by the epoch class itself."""
    cls, segment = GENERATION.epoch_class, GENERATION.segment_class
    if segment is None:
        return cls(1, [("n", i) for i in range(levels - 1)])
    return cls((segment("tube", 1), *(segment("n", i) for i in range(levels - 1))))


def test_an_epoch_out_of_range_or_empty_is_refused(backend: Backend) -> None:
    epochs = GENERATION.epochs
    assert epochs is not None
    out_of_range = [n for n in (epochs.max + 1, epochs.min - 1) if -(2**63) <= n < 2**64]  # (msgpack's ints)
    for wire in (*out_of_range, *([n] for n in out_of_range), [], [1, ["a"]], [1, [2, 3]]):
        with pytest.raises(SchemaError, match="epoch"):
            locked(backend).decode(_epoch_frame(wire))


def test_an_epoch_deeper_than_its_levels_is_refused(backend: Backend) -> None:
    # noob's runner makes every parent of an epoch it stores (Epoch.parents), at a cost that grows with
    # the square of its levels: a 97 KiB frame of one deep epoch cost a node 76 MiB.
    assert GENERATION.epochs is not None
    levels = GENERATION.epochs.max_levels
    deepest = [1, *(["n", i] for i in range(levels - 1))]
    msg = locked(backend).decode(_epoch_frame(deepest))
    assert msg.value == _deep_epoch(levels)
    assert locked(backend).decode(locked(backend).encode(msg)).value == msg.value
    with pytest.raises(SchemaError, match=f"more than {levels}"):
        locked(backend).decode(_epoch_frame([*deepest, ["n", 0]]))
    too_deep = noob_message.EpochEndedMsg.model_construct(
        node_id="command", timestamp=T, value=_deep_epoch(levels + 1)
    )
    with pytest.raises(EncodeError, match=f"more than {levels}"):
        locked(backend).encode(too_deep)


# --- noob 1003's SpecMsg: a tube specification, which noob reads files and imports for --------------------

if "spec" in GENERATION.type_codes:
    from noob.tube import TubeSpecification
    from noob.yaml import ConfigYAMLMixin

    def _spec_frame(value: Any) -> bytes:
        return msgpack.packb(
            [GENERATION.version, GENERATION.type_codes["spec"], 0, "command", msgpack.Timestamp(0), value]
        )

    @pytest.fixture
    def no_config_lookup(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
        """Calls of noob's ``from_id`` / ``from_any`` / ``from_yaml``: a str where a tube belongs makes
        noob build its config (creating directories), load its entry points, and read and rewrite the
        local YAML file of that id (or path)."""
        calls: list[Any] = []
        for name in ("from_id", "from_any", "from_yaml"):
            monkeypatch.setattr(
                ConfigYAMLMixin, name, classmethod(lambda cls, *a, _n=name, **k: calls.append((_n, a)))
            )
        yield calls
        assert calls == [], calls

    def _spec_with_nodes(nodes: dict[str, Any]) -> str:
        spec = TubeSpecification(noob_id="t", nodes={}).model_dump(mode="json")
        spec["nodes"] = nodes
        return json.dumps(spec)

    @pytest.mark.parametrize("value", ["a-tube-id", "tubes/victim.yaml", 5, ["x"]])
    def test_a_spec_whose_value_is_no_object_is_refused(
        backend: Backend, no_config_lookup: list[Any], value: Any
    ) -> None:
        # Before: the JSON text of a str passed the decoder and reached TubeSpecification's before-
        # validator, which looked the str up as a tube id: it read, rewrote and returned a local file.
        for codec in (locked(backend), Codec(generation=GENERATION, backend=backend.name)):
            with pytest.raises(SchemaError, match="Input should be an object"):
                codec.decode(_spec_frame(json.dumps(value)))
        frame = json.dumps(
            {"type": "spec", "node_id": "c", "timestamp": "2026-01-01T00:00:00Z", "value": value}
        ).encode()
        with pytest.raises(SchemaError, match="Input should be an object"):
            locked(backend).decode(frame)

    def _spec_of_bad_depends_under_a_long_key(size: int) -> str:
        """A tube specification of about ``size`` bytes whose one node, under a key of half the bytes,
        depends on a quarter as many signals as there are bytes left, each a str noob's own validator
        refuses (not ``node.signal``): the shape is right; pydantic would name every problem with the
        long key in its place."""
        key = "k" * (size // 2)
        nodes = {key: {"id": "a", "type": "math.floor", "depends": ["a"] * (size // 8)}}
        return json.dumps({"noob_id": "t", "nodes": nodes})

    @pytest.mark.parametrize("as_json_frame", [False, True])
    def test_a_spec_refused_by_noob_s_own_validators_costs_what_its_size_pays_for(
        backend: Backend, as_json_frame: bool
    ) -> None:
        # Before: the shape check let the list of strs through, and noob's validator then reported each
        # item twice, each with the 20 KB key in its place: 45 KB cost 208 MB, 90 KB 820 MB.
        from hostile import resident_peak_growth

        def frame(size: int) -> bytes:
            text = _spec_of_bad_depends_under_a_long_key(size)
            if not as_json_frame:
                return _spec_frame(text)
            return json.dumps(
                {
                    "type": "spec",
                    "node_id": "c",
                    "timestamp": "2026-01-01T00:00:00Z",
                    "value": json.loads(text),
                }
            ).encode()

        def refused(data: bytes) -> str:
            with pytest.raises(SchemaError) as info:
                locked(backend).decode(data)
            return str(info.value)

        refused(frame(400))  # what is built on first use
        big = frame(40_000)
        message: list[str] = []
        growth = resident_peak_growth(lambda: message.append(refused(big)))
        assert growth <= 120 * len(big) + 4 * 2**20, f"{growth / len(big):.0f} x N"
        assert len(message[0]) <= 2048

    def test_a_spec_as_noob_writes_it_decodes(backend: Backend) -> None:
        # noob's own JSON of a specification holds the computed nodeinfo, which noob's own before-
        # validator drops: the check that comes first must let that validator run (it once did not).
        spec = TubeSpecification(
            noob_id="t", nodes={"a": {"id": "a", "type": "math.floor"}, "b": {"id": "b", "type": "math.ceil"}}
        )
        msg = noob_message.SpecMsg(node_id="command", value=spec)
        for codec in (locked(backend), Codec(generation=GENERATION, backend=backend.name)):
            back = codec.decode(codec.encode(msg))
            assert back.value.nodes["a"].type_ == "math.floor"
            assert back.value == spec

    def test_inspect_of_a_spec_that_names_a_file_touches_nothing(
        tmp_path: Path, no_config_lookup: list[Any], capsys: pytest.CaptureFixture[str]
    ) -> None:
        from noobwire.cli import main

        path = tmp_path / "frame"
        path.write_bytes(_spec_frame(json.dumps("victim")))
        assert main(["inspect", str(path)]) == 1
        assert "Input should be an object" in capsys.readouterr().err

    def test_installed_with_pickle_off_repr_of_a_spec_imports_and_reads_nothing(
        backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_config_lookup: list[Any]
    ) -> None:
        # noob's NodeSpecification.nodeinfo, a computed field that repr() shows, imports a node's type,
        # and for a "tube" node reads (and may rewrite) the YAML file its params name: noob's runner
        # logs what it receives (at DEBUG), and the sender names the module and the file.
        (tmp_path / "planted_by_the_sender.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w')\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        frame = _spec_frame(
            _spec_with_nodes(
                {
                    "x": {"id": "x", "type": "planted_by_the_sender.run"},
                    "t": {"id": "t", "type": "tube", "params": {"tube": str(tmp_path / "victim.yaml")}},
                }
            )
        )
        msg = locked(backend).decode(frame)  # decoding computes nothing
        with install(allow_pickle=False, zero_copy=False):
            msg = noob_message.Message.from_bytes([frame])
            shown = repr(msg) + str(msg) + repr(msg.value.nodes["x"])
        assert "planted_by_the_sender.run" in shown
        assert "planted_by_the_sender" not in sys.modules
        assert not (tmp_path / "imported").exists()

    def _planted_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        """A spec whose nodes name a module the sender planted (its import writes a file) and, for a
        tube node, a YAML file (noob's nodeinfo would read, back up and rewrite it)."""
        (tmp_path / "planted_by_the_sender.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w')\n")
        (tmp_path / "victim.yaml").write_text("noob_id: victim\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        return {
            "x": {"id": "x", "type": "planted_by_the_sender.run"},
            "t": {"id": "t", "type": "tube", "params": {"tube": str(tmp_path / "victim.yaml")}},
        }

    def _touched_nothing(tmp_path: Path) -> None:
        assert "planted_by_the_sender" not in sys.modules
        assert sorted(path.name for path in tmp_path.iterdir()) == ["planted_by_the_sender.py", "victim.yaml"]
        assert (tmp_path / "victim.yaml").read_text() == "noob_id: victim\n"

    def test_a_legacy_json_spec_decodes_without_importing_or_touching_a_file(
        backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Before: a JSON frame is written again as a noobwire frame before it is accepted, and writing
        # the spec as its class's JSON computed nodeinfo: the named module was imported and ran, and the
        # YAML file was backed up and rewritten, in every process that received the frame.
        nodes = _planted_spec(tmp_path, monkeypatch)
        frame = json.dumps(
            {
                "type": "spec",
                "node_id": "command",
                "timestamp": "2026-01-01T00:00:00Z",
                "value": {"noob_id": "t", "nodes": nodes},
            }
        ).encode()
        msg = locked(backend).decode(frame)
        assert msg.value.nodes["x"].type_ == "planted_by_the_sender.run"
        with install(allow_pickle=False, zero_copy=False):
            assert noob_message.Message.from_bytes([frame]).value == msg.value
        _touched_nothing(tmp_path)

    def test_a_decoded_spec_is_written_again_without_importing_or_touching_a_file(
        backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Before: forwarding a received spec (encode, encode_frames, the installed to_bytes()) computed
        # nodeinfo; and a spec naming a module that is not there decoded, but could not be written again.
        nodes = {**_planted_spec(tmp_path, monkeypatch), "gone": {"id": "gone", "type": "no_such_package.x"}}
        codec = locked(backend)
        msg = codec.decode(_spec_frame(_spec_with_nodes(nodes)))
        frames = [codec.encode(msg), codec.encode_frames(msg)[-1]]
        with install(allow_pickle=False, zero_copy=False):
            frames.append(msg.to_bytes())
        for frame in frames:
            assert codec.decode(frame).value == msg.value
            assert b"nodeinfo" not in frame
        _touched_nothing(tmp_path)

    def test_a_spec_with_many_unknown_keys_under_a_long_key_costs_what_its_size_pays_for(
        backend: Backend,
    ) -> None:
        # Before: noob's specifications forbid unknown keys, and pydantic named every one of them, each
        # with the long key in its place (model fields do not fail fast): 80 KB cost 200 MB, and the
        # report kept as the error's cause rendered as 51 MB of traceback for 40 KB.
        import traceback

        from hostile import resident_peak_growth

        def frame(size: int) -> bytes:
            node = {"id": "a", "type": "math.floor", **{str(i): 0 for i in range(size // 16)}}
            return _spec_frame(json.dumps({"noob_id": "t", "nodes": {"k" * (size // 2): node}}))

        def refused(data: bytes) -> SchemaError:
            with pytest.raises(SchemaError, match="Extra inputs are not permitted") as info:
                locked(backend).decode(data)
            return info.value

        refused(frame(400))
        big = frame(80_000)
        errors: list[SchemaError] = []
        growth = resident_peak_growth(lambda: errors.append(refused(big)))
        assert growth <= 120 * len(big) + 4 * 2**20, f"{growth / len(big):.0f} x N"
        assert len("".join(traceback.format_exception(errors[0]))) <= 4 * len(big)


# --- noob 1000 and 1001: epochs made by Python code, shared between threads --------------------------

if GENERATION.segment_class is not None:
    RACE = """
import sys, threading
import msgpack
import noobwire
from noobwire.generations import NOOB_1000

sys.setswitchinterval(1e-6)
codec = noobwire.Codec(generation=NOOB_1000, allow_pickle=False, backend="compiled")
TS = msgpack.Timestamp(0)
def work(offset):
    # every root maps to one slot of the compiled backend's epoch cache; the threads use other roots
    roots = [256 * (2 * k + offset) for k in range(64)]
    frames = [msgpack.packb([4, 9, 0, "n", TS, [[1, TS, "a", "s", root, 0]]]) for root in roots]
    for _ in range(1500):
        for frame in frames:
            codec.decode(frame)
threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("decoded")
"""

    def test_two_threads_sharing_the_epoch_cache_do_not_crash() -> None:
        # noob 1000's Epoch is Python code: while it ran, the other thread replaced the cache slot the
        # first had read, and the old epoch was released twice (a crash in 4 of 5 runs).
        pytest.importorskip("noobwire._core.compiled", reason="the compiled extension is not built")
        done = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "decoded"

    def _epochs_frame(epochs: list[Any]) -> bytes:
        rows = [[i, msgpack.Timestamp(0), "a", "s", wire, 0] for i, wire in enumerate(epochs)]
        return msgpack.packb(
            [GENERATION.version, GENERATION.type_codes["event"], 0, "cam", msgpack.Timestamp(0), rows]
        )

    def test_epochs_made_to_share_one_hash_are_refused(backend: Backend) -> None:
        # n and n + 2**61 - 1 hash alike, and noob 1000's epochs hash as tuples of their numbers: 2,000
        # distinct epochs of one hash made noob's EventStore.add, which the runner calls for every event
        # it receives, take 1.5 s (quadratic; 6.6 s for 4,000).
        import itertools

        twins = [5 + k * (2**61 - 1) for k in range(8)]
        colliding = [[root, *(["a", n] for n in rest)] for root, *rest in itertools.product(twins, repeat=3)]
        assert (
            len(
                {
                    hash(locked(backend).decode(_epochs_frame([wire])).value[0]["epoch"])
                    for wire in colliding[:40]
                }
            )
            == 1
        )
        with pytest.raises(SchemaError, match="distinct epochs of one hash value"):
            locked(backend).decode(_epochs_frame(colliding[:33]))
        with install(allow_pickle=False, zero_copy=False), pytest.raises(ValueError, match="one hash value"):
            noob_message.Message.from_bytes([b"event", _epochs_frame(colliding[:33])])
        honest = [[k, ["a", 1]] for k in range(500)] + [[7, ["a", 1]]] * 100  # distinct ones, and repeats
        assert len(locked(backend).decode(_epochs_frame(honest)).value) == 600
        assert len(locked(backend).decode(_epochs_frame(colliding[:32] * 3)).value) == 96
