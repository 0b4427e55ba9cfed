"""The pickle policy: with allow_pickle=False no frame can import a module or run code.

The classic payloads are tried on a codec with pickle off, and each is shown to be live by running it
through a codec with pickle on, where it does what it was made to do.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pickle
import shlex
import subprocess
import sys
import textwrap
import threading
from collections import OrderedDict
from datetime import timedelta
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest

import noobwire
from helpers import PICKLE_VECTORS, VECTORS, assert_same
from noobwire import Codec, DecodeError, EncodeError, EventMsg, Options, SchemaError
from noobwire.bench import workloads
from noobwire.codec import Backend
from noobwire.options import pickle_allowed_by_environment
from tagged import message_from_tagged

TS = msgpack.Timestamp(0, 0)


@pytest.fixture
def locked(backend: Backend) -> Codec:
    """A codec for untrusted peers: pickle off."""
    return Codec(allow_pickle=False, backend=backend.name)


@pytest.fixture
def trusting(backend: Backend) -> Codec:
    """A codec for trusted peers: pickle on (the default)."""
    return Codec(allow_pickle=True, backend=backend.name)


class _RunsShell:
    """Unpickling it runs a shell command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (self.command,))


def _touching(path: Path) -> bytes:
    payload = pickle.dumps(_RunsShell(f"touch {shlex.quote(str(path))}"), protocol=5)
    assert b"system" in payload
    return payload


def _event_frame(value: Any) -> bytes:
    return msgpack.packb([1, 9, 0, "n", TS, [[1, TS, "n", "s", 3, value]]])


def _error_frame(err_type: Any, err_args: list[Any]) -> bytes:
    return msgpack.packb([1, 10, 0, "n", TS, [err_type, err_args, "tb"]])


def _exception_type(name: str) -> msgpack.ExtType:
    return msgpack.ExtType(9, name.encode())


def _pickle_placements(ext: msgpack.ExtType) -> dict[str, bytes]:
    """The same pickle everywhere a value may sit."""
    return {
        "event value": _event_frame(ext),
        "nested in a list": _event_frame([1, [2, ext]]),
        "a dict value": _event_frame({"k": ext}),
        "a dict key": _event_frame({ext: 1}),
        "in a tuple": _event_frame([msgpack.ExtType(1, b""), ext]),
        "process input": msgpack.packb([1, 2, 0, "n", TS, [3, {"k": ext}]]),
        "error args": _error_frame(_exception_type("builtins:ValueError"), [ext]),
        "node_id": msgpack.packb([1, 5, 0, ext, TS, None]),
    }


# --- pickles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", sorted(_pickle_placements(msgpack.ExtType(8, b""))))
def test_a_pickle_that_runs_a_command_is_refused(
    locked: Codec, trusting: Codec, tmp_path: Path, where: str
) -> None:
    marker = tmp_path / "ran"
    frame = _pickle_placements(msgpack.ExtType(8, _touching(marker)))[where]
    with pytest.raises(DecodeError, match=r"refused a pickled value.*allow_pickle=False"):
        locked.decode(frame)
    assert not marker.exists()
    # The payload is live: where pickle is on, decoding it runs the command.
    with contextlib.suppress(DecodeError):  # a node_id that unpickles to an int breaks the schema
        trusting.decode(frame)
    assert marker.exists()


def test_a_reference_json_pickle_is_refused(locked: Codec, trusting: Codec, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    pck = "pck__" + base64.b64encode(_touching(marker)).decode()
    event = {"id": 1, "timestamp": "2026-01-01T00:00:00Z", "node_id": "n", "signal": "s", "epoch": 3}
    frames = {
        "event value": {"type": "event", "node_id": "n", "value": [{**event, "value": pck}]},
        "whole event": {"type": "event", "node_id": "n", "value": [pck]},
        "error value": {"type": "error", "node_id": "n", "value": pck},
    }
    for what, message in frames.items():
        frame = json.dumps(message).encode()
        with pytest.raises(DecodeError, match=r"pickle is off"):
            locked.decode(frame)
        assert not marker.exists(), what
        with contextlib.suppress(DecodeError):  # unpickled to an int, not an event or an error value
            trusting.decode(frame)
        assert marker.exists(), what
        marker.unlink()


def test_a_pickle_in_a_str_field_is_never_unpickled(trusting: Codec, tmp_path: Path) -> None:
    """MessagePack frames carry pickles only as EXT_PICKLE: a ``pck__`` str stays a str, or is refused."""
    marker = tmp_path / "ran"
    pck = "pck__" + base64.b64encode(_touching(marker)).decode()
    with pytest.raises(SchemaError):
        trusting.decode(msgpack.packb([1, 10, 0, "n", TS, pck]))
    assert trusting.decode(_event_frame(pck)).value[0]["value"] == pck
    assert not marker.exists()


def test_pickle_vectors_are_refused_and_the_others_decode(locked: Codec) -> None:
    assert PICKLE_VECTORS  # the sweep below covers pickles
    for name, vector in VECTORS.items():
        frame = bytes.fromhex(vector["hex"])
        if name in PICKLE_VECTORS:
            with pytest.raises(DecodeError, match="pickle is off"):
                locked.decode(frame)
        else:
            expected = message_from_tagged(vector["message"])
            assert_same(expected, locked.decode(frame))
            assert locked.encode(expected) == frame


# --- exception classes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "os:system",
        "posix:system",
        "subprocess:Popen",
        "builtins:eval",
        "builtins:ValueError.__init__",
        "builtins:__import__",
        "noobwire_no_such_module:Error",
        "noobwire_no_such_module.sub:Error",
        "sys:modules",
        ":ValueError",
        "builtins:",
        "ValueError",
    ],
)
def test_exception_names_outside_the_allow_list_are_refused(locked: Codec, name: str) -> None:
    modules = set(sys.modules)
    for frame in (_event_frame(_exception_type(name)), _error_frame(_exception_type(name), [])):
        with pytest.raises(DecodeError) as info:
            locked.decode(frame)
        if ":" in name[1:-1]:
            assert name in str(info.value), "the error names what was refused"
    assert set(sys.modules) == modules, "nothing was imported"


def test_naming_a_module_does_not_import_it(
    locked: Codec, trusting: Codec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "imported"
    module = "noobwire_test_side_effect"
    (tmp_path / f"{module}.py").write_text(
        textwrap.dedent(f"""
            import pathlib
            pathlib.Path({str(marker)!r}).touch()
            class Boom(Exception):
                pass
        """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    frame = _event_frame(_exception_type(f"{module}:Boom"))
    with pytest.raises(DecodeError, match=f"refused exception class '{module}:Boom'"):
        locked.decode(frame)
    assert not marker.exists()
    assert module not in sys.modules
    # Where pickle is on, the module is imported (its code runs) to find the class.
    assert trusting.decode(frame).value[0]["value"].__name__ == "Boom"
    assert marker.exists()


def test_builtin_exceptions_resolve(locked: Codec) -> None:
    for cls in (ValueError, KeyError, OSError, KeyboardInterrupt, ExceptionGroup, BaseException):
        frame = _event_frame(_exception_type(f"builtins:{cls.__name__}"))
        assert locked.decode(frame).value[0]["value"] is cls
    assert locked.decode(_event_frame(_exception_type("builtins:IOError"))).value[0]["value"] is OSError
    msg = locked.decode(_error_frame(_exception_type("builtins:KeyError"), ["k"]))
    assert isinstance(msg.to_exception(), KeyError)


class NodeFailure(RuntimeError):
    """An application's own exception class."""


@pytest.fixture
def registered() -> Any:
    noobwire.register_exception(NodeFailure)
    yield NodeFailure
    noobwire.unregister_exception(NodeFailure)


def test_a_registered_class_resolves(locked: Codec, registered: type[Exception]) -> None:
    name = f"{registered.__module__}:{registered.__qualname__}"
    msg = locked.decode(_error_frame(_exception_type(name), ["boom"]))
    assert msg.value["err_type"] is registered
    assert locked.decode(locked.encode(msg)).value["err_type"] is registered
    noobwire.unregister_exception(registered)
    with pytest.raises(DecodeError, match=f"refused exception class '{name}'"):
        locked.decode(_error_frame(_exception_type(name), ["boom"]))


def test_a_class_that_cannot_be_imported_can_be_registered(locked: Codec, trusting: Codec) -> None:
    class LocalError(Exception):
        pass

    msg = noobwire.ErrorMsg(node_id="n", value={"err_type": LocalError, "err_args": (), "traceback": ""})
    for codec in (locked, trusting):
        with pytest.raises(EncodeError):
            codec.encode(msg)
    noobwire.register_exception(LocalError)
    try:
        for codec in (locked, trusting):
            assert codec.decode(codec.encode(msg)).value["err_type"] is LocalError
    finally:
        noobwire.unregister_exception(LocalError)


def test_register_exception_checks_what_it_is_given() -> None:
    with pytest.raises(TypeError):
        noobwire.register_exception(int)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        noobwire.register_exception(ValueError("not a class"))  # type: ignore[arg-type]

    def make() -> type[Exception]:
        class Twin(Exception):
            pass

        return Twin

    first, second = make(), make()
    assert noobwire.register_exception(first) is first
    try:
        assert noobwire.register_exception(first) is first  # again: nothing changes
        with pytest.raises(ValueError, match="already registered"):
            noobwire.register_exception(second)
    finally:
        noobwire.unregister_exception(first)
    noobwire.unregister_exception(second)  # not registered: nothing happens


def test_register_exception_from_many_threads() -> None:
    classes = [type(f"Threaded{i}", (Exception,), {"__qualname__": f"Threaded{i}"}) for i in range(200)]
    barrier = threading.Barrier(8)

    def register(chunk: list[type[Exception]]) -> None:
        barrier.wait()
        for cls in chunk:
            noobwire.register_exception(cls)

    threads = [threading.Thread(target=register, args=(classes[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        for cls in classes:
            assert noobwire._core.allowlist.allowed_exception(f"{cls.__module__}:{cls.__qualname__}") is cls
    finally:
        for cls in classes:
            noobwire.unregister_exception(cls)


# --- encoding with pickle off --------------------------------------------------------------------


def _message(value: Any) -> EventMsg:
    msg = workloads.e4()
    msg.value[2]["value"] = {"a": [0, value]}
    return msg


class Color(IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "value",
    [
        timedelta(seconds=1),
        Decimal("1.5"),
        Color.RED,
        OrderedDict(a=1),
        np.array([object()], dtype=object),
        int,
        threading.Lock,
    ],
    ids=lambda value: type(value).__qualname__,
)
def test_what_would_need_pickle_is_an_encode_error(locked: Codec, trusting: Codec, value: Any) -> None:
    msg = _message(value)
    with pytest.raises(EncodeError, match="pickle is off") as info:
        locked.encode(msg)
    assert info.value.path == "value[2]['value']['a'][1]"
    assert type(value).__qualname__ in str(info.value)
    assert trusting.encode(msg)  # pickled where pickle is on, as the reference does


def test_an_unregistered_exception_class_is_an_encode_error(locked: Codec) -> None:
    msg = noobwire.ErrorMsg(node_id="n", value={"err_type": NodeFailure, "err_args": (), "traceback": ""})
    with pytest.raises(EncodeError, match="register_exception") as info:
        locked.encode(msg)
    assert info.value.path == "value['err_type']"
    assert "NodeFailure" in str(info.value)


def test_pickle_off_changes_no_bytes(locked: Codec, trusting: Codec) -> None:
    for make in (workloads.e4, workloads.e64, workloads.p, workloads.s, workloads.a1m):
        msg = make()
        assert locked.encode(msg) == trusting.encode(msg) == noobwire.get_backend("pure").encode(msg)


# --- the defaults and the environment --------------------------------------------------------------


def test_pickle_is_on_by_default() -> None:
    assert Options().allow_pickle is pickle_allowed_by_environment()
    if "NOOBWIRE_ALLOW_PICKLE" not in os.environ:
        assert noobwire.options.DEFAULT_OPTIONS.allow_pickle
        assert Codec().options.allow_pickle


@pytest.mark.parametrize(
    ("setting", "allowed"),
    [("0", False), ("false", False), (" OFF ", False), ("no", False), ("1", True), ("yes", True)],
)
def test_the_environment_variable(monkeypatch: pytest.MonkeyPatch, setting: str, allowed: bool) -> None:
    monkeypatch.setenv("NOOBWIRE_ALLOW_PICKLE", setting)
    assert pickle_allowed_by_environment() is allowed
    assert Codec().options.allow_pickle is allowed
    assert Codec(allow_pickle=True).options.allow_pickle


def test_the_environment_locks_down_the_package_functions(tmp_path: Path) -> None:
    """``NOOBWIRE_ALLOW_PICKLE=0`` covers ``decode``, ``from_bytes`` and the JSON path of a new process."""
    marker = tmp_path / "ran"
    frame = _event_frame(msgpack.ExtType(8, _touching(marker)))
    pck = "pck__" + base64.b64encode(_touching(marker)).decode()
    json_frame = json.dumps({"type": "error", "node_id": "n", "value": pck}).encode()
    script = textwrap.dedent(f"""
        import noobwire
        for decode in (noobwire.decode, lambda data: noobwire.Message.from_bytes([data])):
            for data in ({frame!r}, {json_frame!r}):
                try:
                    decode(data)
                except noobwire.DecodeError as exc:
                    assert "pickle is off" in str(exc), exc
                else:
                    raise SystemExit("decoded")
        try:
            noobwire.ErrorMsg.model_validate_json({json_frame!r})
        except ValueError as exc:
            assert "pickle is off" in str(exc), exc
        else:
            raise SystemExit("validated")
        print("refused")
    """)
    env = {**os.environ, "NOOBWIRE_ALLOW_PICKLE": "0"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused"
    assert not marker.exists()
