"""The runner hook (noobwire.noob.runner_hook) on a small package laid out as noob's runner is, without noob.

The package ``fakerunner_N`` (written to a temporary folder, so that the hook can read its source) has
noob's send and receive sites and nothing else: a message module, an event-loop mixin that registers
sockets and receives with one ``recv_multipart()`` and one ``Message.from_bytes()``, and a node runner
whose ``publish_events`` sends ``[b"event", msg.to_bytes()]``. Real ZeroMQ sockets carry the frames.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
import multiprocessing
import os
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

zmq = pytest.importorskip("zmq")
zmq_asyncio = pytest.importorskip("zmq.asyncio")
np = pytest.importorskip("numpy")

from noobwire.noob import runner_hook  # noqa: E402
from noobwire.noob.runner_hook import (  # noqa: E402
    ERROR_FLUSH_SECONDS,
    RunnerInternalsWarning,
    UnpatchedNodesError,
    active_runner_patch,
    internals_problems,
    patch_runner,
    unpatch,
)

MESSAGE_MODULE = """
import json


class Message:
    type_ = "any"

    def __init__(self, node_id, value=None):
        self.node_id = node_id
        self.value = value

    def to_bytes(self):
        return json.dumps({"type": self.type_, "node_id": self.node_id, "value": self.value}).encode()

    @classmethod
    def from_bytes(cls, msg):
        data = json.loads(msg[-1].decode())
        return CLASSES[data["type"]](data["node_id"], data["value"])


class EventMsg(Message):
    type_ = "event"


class StatusMsg(Message):
    type_ = "status"


CLASSES = {"event": EventMsg, "status": StatusMsg}
"""

LOOP_MODULE = """
from {package}.network.message import Message


class EventloopMixin:
    def __init__(self):
        self.sockets = {{}}
        self.receivers = {{}}

    def register_socket(self, name, socket, receiver=False):
        self.sockets[name] = socket
        if receiver:
            self.receivers[name] = socket

    async def _poll_receiver(self, name):
        frames = await self.receivers[name].recv_multipart()
        return Message.from_bytes(frames)
"""

NODE_MODULE = """
from {package}.network.loop import EventloopMixin
from {package}.network.message import EventMsg


class NodeRunner(EventloopMixin):
    async def publish_events(self, events):
        msg = EventMsg("node", events)
        await self.sockets["outbox"].send_multipart([b"event", msg.to_bytes()])
"""

COMMAND_MODULE = """
import threading

from {package}.network.loop import EventloopMixin


class CommandNode(EventloopMixin):
    def __init__(self):
        super().__init__()
        self.ready = threading.Condition()
        self.nodes = set()

    def await_ready(self, node_ids, timeout=10):
        with self.ready:
            if not self.ready.wait_for(lambda: set(node_ids) <= self.nodes, timeout=timeout):
                raise TimeoutError(f"not ready: {{set(node_ids) - self.nodes}}")
"""
"""noob's command node as the watch for unpatched nodes sees it: ``await_ready(node_ids, timeout)``
waits for the nodes' identify messages and raises ``TimeoutError``."""

_numbers = itertools.count()


def write_runner_package(root: Path, replacements: dict[str, str] | None = None) -> ModuleType:
    """Write and import a fresh package with the runner's layout (each ``old: new`` replaced in its
    sources, each ``old`` occurring once)."""
    package = f"fakerunner_{next(_numbers)}"
    sources = {
        "__init__.py": "",
        "network/__init__.py": "",
        "network/message.py": MESSAGE_MODULE,
        "network/loop.py": LOOP_MODULE.format(package=package),
        "runner/__init__.py": "",
        "runner/zmq/__init__.py": "",
        "runner/zmq/node.py": NODE_MODULE.format(package=package),
        "runner/zmq/command.py": COMMAND_MODULE.format(package=package),
    }
    for old, new in (replacements or {}).items():
        matches = [name for name, text in sources.items() if old in text]
        assert len(matches) == 1, f"{old!r} occurs in {matches}"
        sources[matches[0]] = sources[matches[0]].replace(old, new)
    for name, text in sources.items():
        path = root / package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    return importlib.import_module(package)


def test_codec_frames(msg: Any, threshold: int) -> list[Any] | None:
    """A codec for the fake package: a large bytearray value goes as ``[its memory, header]``."""
    value = msg.value
    if not isinstance(value, bytearray) or len(value) < threshold:
        return None
    header = json.dumps({"node_id": msg.node_id, "n": len(value)}).encode()
    return [memoryview(value), header]


test_codec_frames.__test__ = False  # type: ignore[attr-defined]  # a codec, not a test


def make_decoder(package: ModuleType) -> Any:
    event_class = importlib.import_module(f"{package.__name__}.network.message").EventMsg

    def decode_frames(frames: list[Any]) -> Any:
        if frames[-1].bytes.startswith(b'{"type"'):  # the package's own JSON
            return None
        header = json.loads(frames[-1].bytes)
        return event_class(header["node_id"], frames[1].buffer)

    return decode_frames


@pytest.fixture
def package(tmp_path: Path) -> Iterator[ModuleType]:
    yield write_runner_package(tmp_path)
    patch = active_runner_patch()
    if patch is not None:
        unpatch(patch)


def _patch(package: ModuleType, **options: Any) -> Any:
    return patch_runner(
        package, encode_frames=test_codec_frames, decode_frames=make_decoder(package), **options
    )


def _modules(package: ModuleType) -> tuple[Any, Any, Any]:
    name = package.__name__
    return tuple(  # type: ignore[return-value]
        importlib.import_module(f"{name}.{sub}")
        for sub in ("network.message", "network.loop", "runner.zmq.node")
    )


def _patched_attributes(package: ModuleType) -> dict[str, Any]:
    message, loop, node = _modules(package)
    return {
        "EventMsg.to_bytes": getattr(message.EventMsg, "__dict__", {}).get("to_bytes"),
        "Message.from_bytes": vars(message.Message).get("from_bytes"),
        "register_socket": vars(loop.EventloopMixin).get("register_socket"),
        "publish_events": vars(node.NodeRunner).get("publish_events"),
    }


# --- patching and unpatching -----------------------------------------------------------------------


def test_patching_replaces_four_attributes_and_unpatching_puts_back_the_originals(
    package: ModuleType,
) -> None:
    before = _patched_attributes(package)
    patch = _patch(package)
    assert patch.active
    assert active_runner_patch() is patch
    during = _patched_attributes(package)
    assert all(during[name] is not before[name] for name in before), during
    unpatch(patch)
    assert not patch.active
    assert active_runner_patch() is None
    assert _patched_attributes(package) == before
    assert "to_bytes" not in vars(_modules(package)[0].EventMsg)  # inherited again, not a copy
    unpatch(patch)  # a second time does nothing


NODE_ERROR = {
    "class NodeRunner(EventloopMixin):\n": "class NodeRunner(EventloopMixin):\n"
    "    async def error(self, err):\n"
    "        await self.sockets['dealer'].send_multipart([str(err).encode()])\n\n"
    "    @classmethod\n"
    "    def run(cls, node):\n"
    "        return node(cls())\n\n"
}
"""A node runner with noob's ``error`` (it sends the error and returns) and ``run``, the target of a node's
process (here it hands a new runner to ``node``, which stands for the node's event loop and deinit)."""


def test_a_node_error_is_written_out_when_the_node_process_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = write_runner_package(tmp_path, NODE_ERROR)
    node_runner = _modules(package)[2].NodeRunner
    happened: list[tuple[str, Any]] = []

    class Context:
        def destroy(self, linger: int) -> None:
            happened.append(("context ended, waiting at most (ms)", linger))

    class Dealer:
        context = Context()

        async def send_multipart(self, parts: list[bytes]) -> None:
            happened.append(("sent", parts))

    def failing(runner: Any) -> str:
        runner.sockets["dealer"] = Dealer()
        asyncio.run(runner.error(ValueError("over the limit")))
        happened.append(("deinit", "the node's own, its sockets still open"))
        return "ended"

    def calm(runner: Any) -> None:
        happened.append(("no error", None))

    sent = [("sent", [b"over the limit"]), ("deinit", "the node's own, its sockets still open")]
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())  # a node's own process
    patch = _patch(package)
    try:
        assert node_runner.run(failing) == "ended"
        assert happened == [*sent, ("context ended, waiting at most (ms)", ERROR_FLUSH_SECONDS * 1000)]
        happened.clear()
        node_runner.run(calm)
        assert happened == [("no error", None)]  # nothing to write out
        happened.clear()
        monkeypatch.setattr(multiprocessing, "parent_process", lambda: None)  # the runner's own process
        node_runner.run(failing)
        assert happened == sent  # it goes on, and its context may serve other sockets
    finally:
        unpatch(patch)
    happened.clear()
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    node_runner.run(failing)  # unpatched: noob's own, nothing more
    assert happened == sent


def test_a_sigterm_while_the_error_is_written_out_ends_the_wait_quietly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """noob's node turns the runner's SIGTERM into ``KeyboardInterrupt``: the runner wants the node gone,
    and the wait gives way without a traceback from the node's process."""

    class SlowContext:
        def destroy(self, linger: int) -> None:
            time.sleep(0.2)

    def interrupted(self: threading.Thread, timeout: float | None = None) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    monkeypatch.setattr(threading.Thread, "join", interrupted)
    try:
        runner_hook.flush_before_exit(SlowContext())
    except KeyboardInterrupt:
        pytest.fail("the SIGTERM's KeyboardInterrupt left the flush")


SMALL_BUFFER = 32 * 1024
"""A socket's kernel buffer, in bytes: small enough that a 7.5 MB message takes many writes."""


def test_a_large_node_error_reaches_the_runner_though_the_process_ends_at_once(tmp_path: Path) -> None:
    """noob's node process ends through ``os._exit`` once ``NodeRunner.run`` returns: without the patch, a
    message ZeroMQ has not written by then is lost and the runner waits forever. Small kernel buffers on
    both ends keep a large one from being written whole before the process ends. The node's deinit, after
    its error, still sends through a socket of its own on noob's context."""
    package = write_runner_package(tmp_path, NODE_ERROR)
    node_runner = _modules(package)[2].NodeRunner
    text = "over the limit " * 500_000  # 7.5 MB: ZeroMQ's thread needs many writes for it
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.setsockopt(zmq.RCVBUF, SMALL_BUFFER)
    errors = f"tcp://127.0.0.1:{router.bind_to_random_port('tcp://127.0.0.1')}"
    pull = context.socket(zmq.PULL)
    goodbyes = f"tcp://127.0.0.1:{pull.bind_to_random_port('tcp://127.0.0.1')}"
    kept: list[Any] = []

    def failing(runner: Any) -> None:
        async def fail() -> None:
            shared = zmq_asyncio.Context.instance()  # as noob's: one context for the node's sockets
            dealer = shared.socket(zmq.DEALER)
            dealer.setsockopt(zmq.SNDBUF, SMALL_BUFFER)
            dealer.connect(errors)
            own = shared.socket(zmq.PUSH)
            own.connect(goodbyes)
            runner.sockets["dealer"] = dealer
            await runner.error(ValueError(text))
            await own.send(b"goodbye from the node's deinit")
            kept.extend([dealer, own])  # open to the end: ZeroMQ's thread still writes when it comes

        asyncio.run(fail())

    def node_process() -> None:
        node_runner.run(failing)
        os._exit(0)  # as multiprocessing ends a process whose target returned

    patch = _patch(package)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: the child uses none
            process = multiprocessing.get_context("fork").Process(target=node_process, daemon=True)
            process.start()
        process.join(30)
    finally:
        unpatch(patch)
    try:
        assert process.exitcode == 0
        assert router.poll(10_000), "the error message never arrived"
        assert router.recv_multipart()[1] == text.encode()
        assert pull.poll(10_000), "the node's own message after its error never arrived"
        assert pull.recv() == b"goodbye from the node's deinit"
    finally:
        if process.is_alive():
            process.kill()
            process.join()
        context.destroy(linger=0)


def test_a_second_patch_is_refused_until_the_first_is_undone(package: ModuleType, tmp_path: Path) -> None:
    patch = _patch(package)
    other = write_runner_package(tmp_path)
    with pytest.raises(RuntimeError, match="unpatch"):
        _patch(other)
    unpatch(patch)
    unpatch(_patch(other))


@pytest.mark.parametrize(
    ("replacements", "why"),
    [
        (
            {
                'await self.sockets["outbox"].send_multipart([b"event", msg.to_bytes()])': (
                    "payload = msg.to_bytes()\n"
                    '        await self.sockets["outbox"].send_multipart([b"event", payload])'
                )
            },
            "publish_events does not send",
        ),
        (
            {
                "async def publish_events": "def publish_events",
                "await self.sockets[": "self.sockets[",
            },
            "not a coroutine",
        ),
        (
            {
                "await self.receivers[name].recv_multipart()": (
                    "await self.receivers[name].recv_multipart(copy=True)"
                )
            },
            "recv_multipart",
        ),
        ({"return Message.from_bytes(frames)": "return Message.model_validate(frames)"}, "from_bytes"),
        (
            {
                "def register_socket(self, name, socket, receiver=False)": (
                    "def register_socket(self, name, socket)"
                )
            },
            "takes",
        ),
        ({'class EventMsg(Message):\n    type_ = "event"': "EventMsg = None"}, "no class EventMsg"),
        (
            {
                "    @classmethod\n    def from_bytes(cls, msg):": (
                    "    @staticmethod\n    def from_bytes(msg):"
                )
            },
            "not a classmethod",
        ),
    ],
)
def test_a_runner_laid_out_otherwise_is_left_alone_with_a_warning(
    tmp_path: Path, replacements: dict[str, str], why: str
) -> None:
    package = write_runner_package(tmp_path, replacements)
    before = _patched_attributes(package)
    with pytest.warns(RunnerInternalsWarning, match=why):
        patch = patch_runner(package, encode_frames=test_codec_frames, decode_frames=lambda frames: None)
    assert not patch.active
    assert active_runner_patch() is None
    assert _patched_attributes(package) == before


# --- frames on real sockets ------------------------------------------------------------------------


class _Sockets:
    """A node runner of the package with an XPUB outbox, and a receiver with a SUB inbox, over ipc."""

    def __init__(self, package: ModuleType, folder: Path, rcvhwm: int = 1000) -> None:
        _, loop, node = _modules(package)
        self.context = zmq_asyncio.Context()
        self.node = node.NodeRunner()
        self.receiver = loop.EventloopMixin()
        outbox = self.context.socket(zmq.XPUB)
        address = f"ipc://{folder}/outbox"
        outbox.bind(address)
        inbox = self.context.socket(zmq.SUB)
        inbox.rcvhwm = rcvhwm
        inbox.setsockopt(zmq.SUBSCRIBE, b"")
        inbox.connect(address)
        self.node.register_socket("outbox", outbox)
        self.receiver.register_socket("inbox", inbox, receiver=True)

    async def subscribed(self) -> None:
        """Wait until the outbox has seen the inbox's subscription (or messages would be dropped)."""
        await asyncio.wait_for(self.node.sockets["outbox"].recv(), 10)

    async def receive(self) -> Any:
        return await asyncio.wait_for(self.receiver._poll_receiver("inbox"), 10)

    def close(self) -> None:
        self.context.destroy(linger=0)


def _exchange(package: ModuleType, folder: Path, value: Any) -> Any:
    async def run() -> Any:
        sockets = _Sockets(package, folder)
        try:
            await sockets.subscribed()
            await sockets.node.publish_events(value)
            return await sockets.receive()
        finally:
            sockets.close()

    return asyncio.run(run())


def test_a_large_event_goes_as_frames_and_comes_back_as_a_view_of_the_received_frame(
    package: ModuleType, tmp_path: Path
) -> None:
    patch = _patch(package)
    value = bytearray(range(256)) * 1024
    received = _exchange(package, tmp_path, value)
    assert type(received).__name__ == "EventMsg"
    assert isinstance(received.value, memoryview)
    assert isinstance(received.value.obj, zmq.Frame)  # a view of the frame, not a copy
    assert bytes(received.value) == bytes(value)
    assert (patch.sent_frames, patch.received_frames) == (1, 1)


def test_a_small_event_and_other_messages_go_as_before(package: ModuleType, tmp_path: Path) -> None:
    patch = _patch(package)
    received = _exchange(package, tmp_path, [1, 2, "three"])
    assert type(received).__name__ == "EventMsg"
    assert received.value == [1, 2, "three"]
    assert (patch.sent_frames, patch.received_frames) == (0, 0)
    message = _modules(package)[0]
    status = message.StatusMsg("node", "ready")
    assert status.to_bytes() == b'{"type": "status", "node_id": "node", "value": "ready"}'


def test_a_message_of_one_frame_goes_as_that_frame_as_noob_sends_it(
    package: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message without buffers of its own is one frame: ``to_bytes()`` answers it as noob's would, and
    noob's socket sends it as it sends its own (no wrapping, no ``copy=False``); it is still read back
    through ``decode_frames``, as the receiving socket is patched."""
    event_class = _modules(package)[0].EventMsg

    def one_frame(msg: Any, threshold: int) -> list[Any]:
        return [json.dumps({"node_id": msg.node_id, "value": msg.value}).encode()]

    def decode_frames(frames: list[Any]) -> Any:
        header = json.loads(frames[-1].bytes)
        return event_class(header["node_id"], header["value"])

    patch = patch_runner(package, encode_frames=one_frame, decode_frames=decode_frames)
    sent: list[tuple[list[Any], bool]] = []
    send_multipart = zmq_asyncio.Socket.send_multipart

    def noting(self: Any, msg_parts: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append((list(msg_parts), kwargs.get("copy", True)))
        return send_multipart(self, msg_parts, *args, **kwargs)

    monkeypatch.setattr(zmq_asyncio.Socket, "send_multipart", noting)
    received = _exchange(package, tmp_path, [1, 2])
    assert type(received) is event_class
    assert received.value == [1, 2]
    assert sent == [([b"event", b'{"node_id": "node", "value": [1, 2]}'], True)]
    assert (patch.sent_frames, patch.received_frames) == (1, 1)


def test_outside_publish_events_to_bytes_is_one_frame(package: ModuleType) -> None:
    _patch(package)
    message = _modules(package)[0]
    large = message.EventMsg("node", [0] * 10)
    assert (
        large.to_bytes() == b'{"type": "event", "node_id": "node", "value": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}'
    )


def test_a_codec_that_fails_leaves_the_message_to_one_frame_with_a_warning(
    package: ModuleType, tmp_path: Path
) -> None:
    def failing(msg: Any, threshold: int) -> list[Any]:
        raise ValueError("cannot encode this")

    patch_runner(package, encode_frames=failing, decode_frames=make_decoder(package))
    with pytest.warns(RunnerInternalsWarning, match="cannot encode this"):
        received = _exchange(package, tmp_path, [4, 5])
    assert received.value == [4, 5]


def test_after_unpatching_sockets_registered_before_carry_single_frames(
    package: ModuleType, tmp_path: Path
) -> None:
    patch = _patch(package)

    async def run() -> Any:
        sockets = _Sockets(package, tmp_path)
        try:
            await sockets.subscribed()
            unpatch(patch)
            await sockets.node.publish_events([7])
            return await sockets.receive()
        finally:
            sockets.close()

    received = asyncio.run(run())
    assert received.value == [7]
    assert patch.received_frames == 0


@pytest.mark.parametrize("wait_for_send", [True, False])
def test_publishing_returns_once_zeromq_has_let_go_of_the_buffer(
    package: ModuleType, tmp_path: Path, wait_for_send: bool
) -> None:
    """The receiver holds one message and reads nothing more (its high-water mark is 1), so a second one
    of 16 MiB stays in the sender's hands: ``publish_events`` must not return while it does, unless told
    not to wait (then the sender could change the buffer under it)."""
    _patch(package, wait_for_send=wait_for_send)
    first, second = bytearray(b"a" * (1 << 24)), bytearray(b"b" * (1 << 24))

    async def run() -> tuple[bool, bytes, bytes]:
        sockets = _Sockets(package, tmp_path, rcvhwm=1)
        try:
            await sockets.subscribed()
            await asyncio.wait_for(sockets.node.publish_events(first), 10)
            publishing = asyncio.ensure_future(sockets.node.publish_events(second))
            await asyncio.wait({publishing}, timeout=0.3)  # ends early if it returns without waiting
            returned_early = publishing.done()
            got_first = bytes((await sockets.receive()).value[:1])
            got_second = bytes((await sockets.receive()).value[:1])
            await asyncio.wait_for(publishing, 10)
            return returned_early, got_first, got_second
        finally:
            sockets.close()

    returned_early, got_first, got_second = asyncio.run(run())
    assert returned_early is not wait_for_send
    assert (got_first, got_second) == (b"a", b"b")


def test_warnings_do_not_escape_as_errors_when_patching_a_proper_layout(package: ModuleType) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _patch(package).active


# --- the watch for nodes started without noobwire -------------------------------------------------------


def _is_json(frame: bytes) -> bool:
    return frame[:1] == b"{"


def _command_node(package: ModuleType) -> Any:
    return importlib.import_module(f"{package.__name__}.runner.zmq.command").CommandNode


def test_the_watch_wraps_await_ready_and_unpatching_puts_it_back(package: ModuleType) -> None:
    command = _command_node(package)
    before = vars(command)["await_ready"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        patch = _patch(package, is_legacy=_is_json)
    assert patch.active
    assert patch.watching
    assert vars(command)["await_ready"] is not before
    unpatch(patch)
    assert vars(command)["await_ready"] is before


def test_without_is_legacy_there_is_no_watch(package: ModuleType) -> None:
    command = _command_node(package)
    before = vars(command)["await_ready"]
    patch = _patch(package)
    assert patch.active
    assert not patch.watching
    assert vars(command)["await_ready"] is before


@pytest.mark.parametrize(
    ("replacements", "why"),
    [
        (
            {"def await_ready(": "async def await_ready("},
            "not a function",
        ),
        (
            {"def await_ready(self, node_ids, timeout=10):": "def await_ready(self, node_ids):"},
            "not a function",
        ),
        ({'raise TimeoutError(f"not ready': 'raise RuntimeError(f"not ready'}, "does not raise TimeoutError"),
        ({"class CommandNode(": "class CommandRunner("}, "has no class CommandNode"),
    ],
)
def test_a_command_node_laid_out_otherwise_leaves_the_watch_off_with_a_warning(
    tmp_path: Path, replacements: dict[str, str], why: str
) -> None:
    """The watch needs noob's await_ready as it is: laid out otherwise, it warns (rather than skipping
    the watch silently) and hooks everything else."""
    package = write_runner_package(tmp_path, replacements)
    command = importlib.import_module(f"{package.__name__}.runner.zmq.command")
    assert any(why in problem for problem in internals_problems(*_modules(package), command))
    with pytest.warns(
        RunnerInternalsWarning, match=f"cannot watch for nodes started without noobwire.*{why}"
    ):
        patch = _patch(package, is_legacy=_is_json)
    try:
        assert patch.active
        assert not patch.watching
    finally:
        unpatch(patch)


def test_a_node_that_speaks_json_to_a_watched_router_stops_await_ready_naming_it(
    package: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node started without noobwire identifies itself in noob's JSON on the command node's ROUTER: the
    command node's await_ready raises UnpatchedNodesError naming it, a TimeoutError (which noob's init
    answers by ending its node processes), instead of waiting out its timeout."""
    monkeypatch.setattr(runner_hook, "WATCH_SLICE_SECONDS", 0.01)
    patch = _patch(package, is_legacy=_is_json)
    node = _command_node(package)()

    async def identify() -> Any:
        context = zmq_asyncio.Context()
        try:
            router, dealer = context.socket(zmq.ROUTER), context.socket(zmq.DEALER)
            router.bind(f"ipc://{tmp_path}/router")
            dealer.setsockopt_string(zmq.IDENTITY, "cam")
            dealer.connect(f"ipc://{tmp_path}/router")
            node.register_socket("router", router, receiver=True)
            await dealer.send_multipart([b'{"type": "status", "node_id": "cam", "value": "ready"}'])
            return await asyncio.wait_for(node._poll_receiver("router"), 10)
        finally:
            context.destroy(linger=0)

    assert asyncio.run(identify()).node_id == "cam"  # read as before: the JSON of an unpatched peer
    assert patch.legacy_senders == {"cam"}
    other = _command_node(package)()  # another runner's command node: its own nodes spoke no JSON
    with pytest.raises(TimeoutError, match="not ready") as waited:
        other.await_ready(["cam"], timeout=0.05)
    assert type(waited.value) is TimeoutError
    with pytest.raises(UnpatchedNodesError, match=r"node 'cam' of this runner sent noob's JSON") as stopped:
        node.await_ready(["cam", "roi"], timeout=600)
    assert stopped.value.nodes == ["cam"]
    assert isinstance(stopped.value, TimeoutError)
    with pytest.raises(TimeoutError, match="not ready") as waited:  # no JSON from it: noob's own timeout
        node.await_ready(["roi"], timeout=0.05)
    assert type(waited.value) is TimeoutError
    node.nodes.add("roi")
    node.await_ready(["roi"])  # ready: returns
