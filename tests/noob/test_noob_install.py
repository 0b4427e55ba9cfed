"""``noobwire.noob.install()``: noob's own classes, patched and unpatched, and the schema check.

The target is the stand-in of the reference generation (a copy of the mirror under another module name,
with the reference's JSON ``to_bytes`` / ``from_bytes``); noob's own generations are in test_noob_current.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

import _noobwire_install
import noobwire
from helpers import VECTORS, assert_same
from noobwire import DecodeError, wire
from noobwire.codec import Backend
from noobwire.generations import REFERENCE
from noobwire.messages import MESSAGE_CLASSES
from noobwire.noob import (
    ENV_INSTALL,
    ENV_JSON_FALLBACK,
    IncompatibleNoobError,
    active_installation,
    install,
    install_from_environment,
    uninstall,
)
from noobwire.noob.compat import schema_differences
from standin import STANDIN_MODULE, import_standin, load_variant, write_standin_package
from tagged import message_from_tagged

NOW = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(scope="session")
def standin(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return import_standin(write_standin_package(tmp_path_factory.mktemp("standin")))


@pytest.fixture
def target(standin: ModuleType) -> ModuleType:
    """The message module to patch: the stand-in of the reference schema (noob's own generations are
    tested against the real package in test_noob_current)."""
    return standin


@pytest.fixture(autouse=True)
def _never_left_installed() -> Iterator[None]:
    yield
    uninstall()


def _event(value: Any, signal: str = "frame", event_id: int = 1) -> dict[str, Any]:
    return {"id": event_id, "timestamp": NOW, "node_id": "cam", "signal": signal, "epoch": 42, "value": value}


def _their(module: ModuleType, mirror_msg: noobwire.Message) -> Any:
    """The same message as an instance of the target's own class, built by its own validation."""
    cls = getattr(module, type(mirror_msg).__name__)
    return cls.model_validate(
        {
            "type": mirror_msg.type_,
            "node_id": mirror_msg.node_id,
            "timestamp": mirror_msg.timestamp,
            "value": mirror_msg.value,
        }
    )


# --- the stand-in is a real stand-in ----------------------------------------------------------------


def test_the_standin_has_classes_of_its_own_and_the_reference_schema(standin: ModuleType) -> None:
    assert standin.__name__ == STANDIN_MODULE
    for cls in MESSAGE_CLASSES.values():
        theirs = getattr(standin, cls.__name__)
        assert theirs is not cls
        assert not issubclass(theirs, noobwire.Message)
    assert standin.MetaSignal is not noobwire.MetaSignal
    assert schema_differences(standin) == []


def test_unpatched_the_standin_speaks_the_reference_json(standin: ModuleType) -> None:
    msg = standin.StatusMsg(node_id="cam", value="ready", timestamp=NOW)
    frame = msg.to_bytes()
    assert frame == noobwire.StatusMsg(node_id="cam", value="ready", timestamp=NOW).to_json_bytes()
    with pytest.raises(UnicodeDecodeError):  # noob's own from_bytes reads JSON only
        standin.Message.from_bytes([noobwire.encode(noobwire.StatusMsg(node_id="cam", value="ready"))])


# --- the codec builds the classes of any table ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_every_vector_decodes_into_the_standins_classes(
    backend: Backend, standin: ModuleType, name: str
) -> None:
    frame = bytes.fromhex(VECTORS[name]["hex"])
    classes = {type_name: getattr(standin, cls.__name__) for type_name, cls in MESSAGE_CLASSES.items()}
    decoded = backend.decode(frame, classes)
    expected = message_from_tagged(VECTORS[name]["message"])
    assert type(decoded) is classes[expected.type_]
    assert decoded.type_ == expected.type_
    assert decoded.node_id == expected.node_id
    assert_same(expected.timestamp, decoded.timestamp)
    assert_same(expected.value, decoded.value)
    assert backend.encode(decoded) == frame


@pytest.mark.parametrize("type_name", REFERENCE.type_names)
def test_a_type_held_as_a_foreign_str_enum_member_encodes_as_its_name(
    backend: Backend, standin: ModuleType, type_name: str
) -> None:
    member = standin.MessageType(type_name)
    assert type(member) is not str
    assert type(member) is not noobwire.MessageType
    assert member == type_name
    assert hash(member) == hash(type_name)
    assert REFERENCE.type_codes.get(member) == REFERENCE.type_names.index(type_name)
    vector = next(v for v in VECTORS.values() if v["message"]["type"] == type_name)
    frame = bytes.fromhex(vector["hex"])
    msg = backend.decode(frame)
    object.__setattr__(msg, "type_", member)
    assert backend.encode(msg) == frame


def test_a_default_type_is_an_enum_member_and_encodes(backend: Backend, standin: ModuleType) -> None:
    msg = standin.StopMsg(node_id="cam", timestamp=NOW)
    assert (
        type(msg.type_) is standin.MessageType
    )  # a default is not validated: use_enum_values does not apply
    assert backend.encode(msg) == backend.encode(noobwire.StopMsg(node_id="cam", timestamp=NOW, type="stop"))


# --- install() ---------------------------------------------------------------------------------------


def test_install_makes_to_bytes_write_noobwire_frames(target: ModuleType) -> None:
    mirror = noobwire.EventMsg(node_id="cam", timestamp=NOW, value=[_event(1234), _event((1, 2), "roi", 2)])
    theirs = _their(target, mirror)
    assert theirs.to_bytes().startswith(b"{")
    with install(module=target):
        assert theirs.to_bytes() == noobwire.encode(mirror)
    assert theirs.to_bytes().startswith(b"{")


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_from_bytes_builds_the_targets_own_classes(target: ModuleType, name: str) -> None:
    frame = bytes.fromhex(VECTORS[name]["hex"])
    expected = message_from_tagged(VECTORS[name]["message"])
    with install(module=target):
        decoded = target.Message.from_bytes([b"topic", frame])
        assert type(decoded) is getattr(target, type(expected).__name__)
        assert isinstance(decoded, target.Message)
        assert not isinstance(decoded, noobwire.Message)
        assert decoded.to_bytes() == frame
        # from_bytes is inherited: called on a subclass, it still decodes whatever the frame holds
        assert type(target.PingMsg.from_bytes([frame])) is type(decoded)


def test_an_error_message_is_noobs_error_msg_and_rebuilds_the_exception(target: ModuleType) -> None:
    value = {"err_type": KeyError, "err_args": ("missing", 3), "traceback": "Traceback ...\n"}
    sent = target.ErrorMsg(node_id="node-1", value=value)
    with install(module=target):
        received = target.Message.from_bytes([sent.to_bytes()])
    assert isinstance(received, target.ErrorMsg)
    error = received.to_exception()
    assert type(error) is KeyError
    assert error.args == ("missing", 3)
    assert error.__notes__[0].endswith("Traceback ...\n")


def test_noobs_own_no_event_crosses_as_itself(target: ModuleType) -> None:
    no_event = target.MetaSignal.NoEvent
    sent = target.EventMsg(node_id="cam", value=[_event(no_event, "__META__"), _event(3)])
    with install(module=target):
        frame = sent.to_bytes()
        received = target.Message.from_bytes([frame])
    # the wire format's NoEvent extension (which the mirror reads as its own), not a pickle of noob's member
    assert frame.count(bytes([0xC7, 0x00, wire.EXT_META_SIGNAL])) == 1
    assert noobwire.decode(frame).value[0]["value"] is noobwire.MetaSignal.NoEvent
    assert received.value[0]["value"] is no_event
    assert received.value[1]["value"] == 3
    assert sent.value[0]["value"] is no_event  # the sender's message is left as it was


def test_a_message_that_cannot_be_encoded_is_an_encode_error(target: ModuleType) -> None:
    broken = target.EventMsg.model_construct(node_id="cam", value=[_event(1), "not an event"])
    with (
        install(module=target),
        pytest.raises(noobwire.EncodeError, match=r"expected an event dict.* at value\[1\]"),
    ):
        broken.to_bytes()


def test_legacy_json_is_read_by_noobs_own_code(target: ModuleType) -> None:
    legacy = noobwire.EventMsg(node_id="cam", timestamp=NOW, value=[_event(0.5)]).to_json_bytes()
    with install(module=target):
        received = target.Message.from_bytes([b"event", legacy])
    assert type(received) is target.EventMsg
    assert received.value[0]["value"] == 0.5


def test_without_json_fallback_a_json_frame_is_refused(target: ModuleType) -> None:
    legacy = noobwire.PingMsg(node_id="cam").to_json_bytes()
    with install(json_fallback=False, module=target), pytest.raises(DecodeError, match="json_fallback"):
        target.Message.from_bytes([legacy])


def test_a_bad_frame_is_a_decode_error(target: ModuleType) -> None:
    with install(module=target), pytest.raises(DecodeError, match="offset"):
        target.Message.from_bytes([bytes.fromhex(VECTORS["msg_stop"]["hex"])[:-3]])


def test_install_sets_the_environment_for_new_processes(target: ModuleType) -> None:
    with install(json_fallback=False, module=target):
        expected = "1" if target.__name__ == "noob.network.message" else target.__name__
        assert os.environ[ENV_INSTALL] == expected
        assert os.environ[ENV_JSON_FALLBACK] == "0"


def test_uninstall_restores_the_very_same_objects(
    target: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_JSON_FALLBACK, "yes")
    monkeypatch.delenv(ENV_INSTALL, raising=False)
    message = target.Message
    before = {name: vars(message)[name] for name in ("to_bytes", "from_bytes")}
    subclass_dicts = {cls: dict(vars(cls)) for cls in vars(target).values() if isinstance(cls, type)}
    install(module=target)
    assert vars(message)["to_bytes"] is not before["to_bytes"]
    assert vars(message)["from_bytes"] is not before["from_bytes"]
    uninstall()
    assert {name: vars(message)[name] for name in before} == before
    assert all(vars(message)[name] is before[name] for name in before)
    assert {cls: dict(vars(cls)) for cls in subclass_dicts} == subclass_dicts
    assert os.environ[ENV_JSON_FALLBACK] == "yes"
    assert ENV_INSTALL not in os.environ
    assert active_installation() is None
    uninstall()  # a second time does nothing


def test_the_context_manager_uninstalls_even_on_error(target: ModuleType) -> None:
    original = vars(target.Message)["to_bytes"]
    environment = {name: os.environ.get(name) for name in (ENV_INSTALL, ENV_JSON_FALLBACK)}
    seen = []
    with pytest.raises(ZeroDivisionError), install(module=target) as installation:  # noqa: PT012
        seen.append((active_installation() is installation, vars(target.Message)["to_bytes"] is not original))
        1 / 0  # noqa: B018
    assert seen == [(True, True)]
    assert {name: os.environ.get(name) for name in environment} == environment
    assert vars(target.Message)["to_bytes"] is original
    assert active_installation() is None


def test_installing_again(target: ModuleType) -> None:
    first = install(module=target)
    assert install(module=target.__name__) is first
    with pytest.raises(RuntimeError, match="json_fallback=True"):
        install(json_fallback=False, module=target)
    uninstall()
    assert install(json_fallback=False, module=target).json_fallback is False


def test_nested_with_blocks_keep_the_patch_until_the_outermost_ends(target: ModuleType) -> None:
    """Leaving an inner ``with install():`` used to uninstall, and the outer block went on in JSON."""
    status = target.StatusMsg(node_id="cam", value="ready")
    their_json = status.to_bytes()
    before = os.environ.get(ENV_INSTALL)
    with install(module=target) as outer:
        with install(module=target) as inner:
            assert inner is outer
        assert active_installation() is outer
        assert status.to_bytes()[:1] == bytes([wire.FRAME_ARRAY])  # still a noobwire frame
        assert os.environ[ENV_INSTALL] == target.__name__  # and still carried into new processes
    assert active_installation() is None
    assert status.to_bytes() == their_json
    assert os.environ.get(ENV_INSTALL) == before


def test_a_with_block_inside_a_plain_install_leaves_it_installed(target: ModuleType) -> None:
    installation = install(module=target)
    with install(module=target):
        pass
    assert active_installation() is installation
    uninstall()  # undoes it at once, whatever number of calls it answers
    assert active_installation() is None


def test_the_end_of_a_replaced_installations_block_leaves_the_new_one(target: ModuleType) -> None:
    with install(module=target) as first:
        uninstall()
        second = install(json_fallback=False, module=target)
    assert active_installation() is second
    first.release()  # released again: still not the active one, so nothing happens
    assert active_installation() is second


def test_only_one_module_at_a_time(standin: ModuleType) -> None:
    other = load_variant("noobstandin_other", {})
    with install(module=standin), pytest.raises(RuntimeError, match="uninstall"):
        install(module=other)


def test_an_installation_in_a_running_forkserver_warns(
    standin: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing.forkserver as forkserver

    monkeypatch.setattr(forkserver._forkserver, "_forkserver_pid", 99999, raising=False)
    with pytest.warns(RuntimeWarning, match="forkserver is already running"):
        install(module=standin)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        uninstall()  # the same forkserver as at install(): nothing new to warn about


def test_in_the_runners_zeromq_layout(target: ModuleType) -> None:
    zmq = pytest.importorskip("zmq")
    context = zmq.Context.instance()
    router, dealer = context.socket(zmq.ROUTER), context.socket(zmq.DEALER)
    publisher, subscriber = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    try:
        router.bind("inproc://noobwire-command")
        dealer.connect("inproc://noobwire-command")
        publisher.bind("inproc://noobwire-events")
        subscriber.connect("inproc://noobwire-events")
        with install(module=target):
            error = target.ErrorMsg(
                node_id="node", value={"err_type": ValueError, "err_args": ("bad",), "traceback": ""}
            )
            dealer.send_multipart([error.to_bytes()])
            identity, frame = router.recv_multipart()
            assert frame[0] == 0x96  # a noobwire frame
            assert isinstance(target.Message.from_bytes([identity, frame]), target.ErrorMsg)
            event = target.EventMsg(node_id="cam", value=[_event({"a": (1, 2)})])
            publisher.send_multipart([b"event", event.to_bytes()])
            received = target.Message.from_bytes(subscriber.recv_multipart())
            assert isinstance(received, target.EventMsg)
            assert received.value[0]["value"] == {"a": (1, 2)}
    finally:
        for socket in (router, dealer, publisher, subscriber):
            socket.close(linger=0)


# --- refusals ---------------------------------------------------------------------------------------

_PROCESS_VALUE = "class ProcessValue(TypedDict):\n    epoch: int\n"
_IDENTIFY_SLOTS = "    slots: list[str] | None\n"
_STOP_MSG = "class StopMsg(Message):\n"
_ANNOUNCE_IDENTIFY = '    announce = "announce"\n    identify = "identify"\n'
_IDENTIFY_ANNOUNCE = '    identify = "identify"\n    announce = "announce"\n'

VARIANTS = {
    "an extra message type": (
        {'    error = "error"\n': '    error = "error"\n    epoch_ended = "epoch_ended"\n'},
        "MessageType: members this schema does not have: epoch_ended",
    ),
    "message types in another order": (
        {_ANNOUNCE_IDENTIFY: _IDENTIFY_ANNOUNCE},
        "MessageType: its members are in another order",
    ),
    "a field added to IdentifyValue": (
        {_IDENTIFY_SLOTS: _IDENTIFY_SLOTS + "    subscribers: list[str]\n"},
        "IdentifyValue has fields this schema does not: subscribers",
    ),
    "an optional epoch": (
        {_PROCESS_VALUE: "class ProcessValue(TypedDict):\n    epoch: int | None\n"},
        "ProcessMsg: its JSON schema differs at $defs.ProcessValue.properties.epoch",
    ),
    "another event value type": (
        {'    epoch: int\n    """Epoch number': '    epoch: str\n    """Epoch number'},
        "EventMsg: its JSON schema differs at $defs.Event.properties.epoch",
    ),
    "another NoEvent": (
        {'    NoEvent = "NoEvent"': '    NoEvent = "__META__NoEvent"'},
        "MetaSignal: members this schema does not have: NoEvent; lacks members: NoEvent",
    ),
    "another config": (
        {"ConfigDict(use_enum_values=True,": "ConfigDict(use_enum_values=False,"},
        "its model_config differs in use_enum_values",
    ),
    "a subclass with its own codec": (
        {_STOP_MSG: _STOP_MSG + "    def to_bytes(self):\n        return b''\n"},
        "StopMsg overrides to_bytes",
    ),
    "an extra message class": (
        {"class EventMsg(Message):": "class SpecMsg(Message):\n    value: str\n\n\nclass EventMsg(Message):"},
        "message classes this schema does not have: SpecMsg",
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_install_refuses_a_module_whose_schema_differs(variant: str) -> None:
    replacements, expected = VARIANTS[variant]
    module = load_variant("noobstandin_" + variant.replace(" ", "_"), replacements)
    before = dict(vars(module.Message))
    with pytest.raises(IncompatibleNoobError) as caught:
        install(module=module)
    assert expected in str(caught.value)
    assert any(expected in difference for difference in caught.value.differences)
    assert dict(vars(module.Message)) == before
    assert active_installation() is None


def test_install_refuses_a_module_that_lacks_classes() -> None:
    module = load_variant("noobstandin_lacking", {})
    del module.PingMsg, module.ProcessValue
    with pytest.raises(IncompatibleNoobError, match="it lacks PingMsg, ProcessValue"):
        install(module=module)


def test_install_into_a_module_that_is_not_there() -> None:
    with pytest.raises(ImportError, match="noobwire cannot be installed into no_such_package"):
        install(module="no_such_package.network.message")
    with pytest.raises(IncompatibleNoobError, match=r"there is no module json\.network"):
        install(module="json.network.message")


# --- the environment the start-up hook reads ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "module"),
    [
        ("", None),
        ("0", None),
        (" off ", None),
        ("1", "noob.network.message"),
        ("TRUE", "noob.network.message"),
        ("noobstandin.network.message", "noobstandin.network.message"),
        ("not a module!", None),
        ("a..b", None),
    ],
)
def test_what_noobwire_install_asks_for(value: str, module: str | None) -> None:
    assert _noobwire_install.target_module(value) == module


@pytest.mark.parametrize(
    ("value", "json_fallback"), [("0", False), ("off", False), ("1", True), (None, True)]
)
def test_install_from_environment(
    standin: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str | None, json_fallback: bool
) -> None:
    if value is None:
        monkeypatch.delenv(ENV_JSON_FALLBACK, raising=False)
    else:
        monkeypatch.setenv(ENV_JSON_FALLBACK, value)
    installation = install_from_environment(standin)
    assert installation.module is standin
    assert installation.json_fallback is json_fallback
