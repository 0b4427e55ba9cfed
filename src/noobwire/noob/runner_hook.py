"""Zero-copy arrays through noob's own ZeroMQ runner: where noob sends and receives event messages.

``install()`` makes ``to_bytes()`` / ``from_bytes()`` write and read noobwire frames, but those carry one
frame each, so a patched runner still copies every array into a frame and out again. :func:`patch_runner`
hooks the runner itself so that an event message's large buffers travel as frames of their own, sent with
``copy=False`` and read back as views over the received frames.

Where noob's runner (1000.0.0 to 1003.x, one layout throughout) moves messages:

- a node sends its events in ``NodeRunner.publish_events`` as ``[b"event", msg.to_bytes()]`` on its XPUB
  outbox; every other send (control messages on the DEALER and on the command node's outbox) is a
  ``to_bytes()`` frame too;
- every socket is registered through ``EventloopMixin.register_socket``, and every message is received in
  ``EventloopMixin._poll_receiver``: ``recv_multipart()`` (copying each frame into ``bytes``), then
  ``Message.from_bytes(frames)``. Events arrive on SUB sockets: a node's inbox (its upstream nodes' events
  and the command node's control messages) and the command node's inbox, subscribed to every outbox.

The hook changes none of noob's functions' bodies; it wraps four attributes (more where noob has the
others below, and with the watch for unpatched nodes):

- ``NodeRunner.publish_events``: runs noob's own, inside a scope in which ``EventMsg.to_bytes()`` may
  answer with the message's frames instead of one frame; once noob's call has returned, it waits until
  ZeroMQ has let go of the buffers sent without a copy (see "Arrays" below);
- ``EventMsg.to_bytes``: inside that scope, hands the message to ``encode_frames`` (a message of one
  frame, without buffers of its own, is answered as that frame, which noob's socket sends as it sends
  its own); outside it, and when ``encode_frames`` declines, it is what it was (noob's own, or
  ``install()``'s);
- ``EventloopMixin.register_socket``: each socket registered from then on sends the frames such a
  ``to_bytes()`` answered with as ``[topic, *frames]`` with ``copy=False``, and each SUB socket that is
  polled receives with ``copy=False``;
- ``Message.from_bytes``: frames received that way go to ``decode_frames``; when it declines (noob's JSON),
  to what ``from_bytes`` was, as ``bytes``;
- ``NodeRunner.error`` and ``NodeRunner.run`` (where noob has both): once a node has sent its error, the
  end of ``run`` (a node process's target) waits, at most :data:`ERROR_FLUSH_SECONDS`, until ZeroMQ has
  written what the node's sockets still hold, before the process ends (see there why);
- ``ZMQRunner._get_epoch_future`` (where noob has it, in ``runner.zmq.runner``): noob's creates an
  epoch's future and then, if the epoch has completed, sets its result; when the command node's thread
  completes the epoch in between (it sets the future's result as the epoch ends), noob's
  ``set_result`` raises ``InvalidStateError`` out of ``run()`` (in noob 1000, which drops the future it
  completed, a ``KeyError``). The wrapped one returns the future the command node completed instead (a
  completed one, where noob 1000 dropped it), as noob's command node itself ignores the error in the
  other order. (noob alone meets this race too; the faster the messages, the more often.)
- with ``is_legacy`` given (``install()`` gives it), the watch for nodes started without noobwire: each
  ROUTER socket that is polled (the command node's, which hears every node's identify, status and error
  messages) notes the nodes whose frames are noob's JSON, and ``CommandNode.await_ready`` (in
  ``runner.zmq.command``) waits in slices of a second and raises :class:`UnpatchedNodesError` as soon as
  a node it waits for is one of them. Such a node was started without noobwire (an interpreter without
  the start-up hook), cannot read this process's frames and would never become ready: the runner's
  ``init()`` stops at once, naming it, instead of noob's ``TimeoutError`` after ten seconds that names
  nothing.

So small messages and control messages are as they were, the topic still comes first for SUB's prefix
filter, the message's header frame is still the last frame (which noob's ``from_bytes`` reads), and the
hook does not need to know the wire format: ``encode_frames`` / ``decode_frames`` are given to it.

If the installed noob's runner is not laid out as above (checked on its source when patching), nothing is
patched and a :class:`RunnerInternalsWarning` says why: messages then go as single frames, as without the
hook. If only ``CommandNode.await_ready`` differs, the rest is hooked and the warning says that the watch
is off (unpatched nodes then make noob's ``init()`` time out, as without the watch). Patch before the
runner starts its processes: processes started by fork inherit the patch. Processes started by spawn or
forkserver are hooked only through ``noobwire.noob.install()``, whose start-up hook
(``NOOBWIRE_ZERO_COPY``) patches each new interpreter; after ``patch_runner`` alone they send noob's own
single frames, which every receiver reads.

Arrays: a received array is a view over a frame that only this process holds, so a node may keep it past
later epochs or write into it (the frame's memory is writable), as it may with noob's own unpickled copy;
the frame is freed when the last view of it goes. A sent array is read by ZeroMQ after ``send`` returns,
so the sending node's ``publish_events`` does not return until ZeroMQ has let go of every mutable buffer it
was sent from (``wait_for_send``): a node that reuses one array for every epoch's result cannot change it
under a message still in flight.
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import contextlib
import contextvars
import importlib
import inspect
import multiprocessing
import sys
import textwrap
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import Any

from noobwire.wire import DEFAULT_BUFFER_THRESHOLD

__all__ = [
    "DecodeFrames",
    "EncodeFrames",
    "RunnerInternalsWarning",
    "RunnerPatch",
    "StartedRunner",
    "UnpatchedNodesError",
    "active_runner_patch",
    "internals_problems",
    "patch_runner",
    "started_runners",
    "unpatch",
]

EncodeFrames = Callable[[Any, int], "list[Any] | None"]
"""``encode_frames(msg, threshold)``: the frames of noob's event message ``msg``, header last, buffers of
at least ``threshold`` bytes in frames of their own; or None to send ``msg`` as ``to_bytes()`` would."""

DecodeFrames = Callable[[list[Any]], Any]
"""``decode_frames(frames)``: the noob message of the ``zmq.Frame`` objects received (the topic first, the
header last); or None for a frame it does not read (noob's JSON), which ``from_bytes`` then reads."""

_MESSAGE_MODULE = "network.message"
_LOOP_MODULE = "network.loop"
_NODE_MODULE = "runner.zmq.node"
_COMMAND_MODULE = "runner.zmq.command"
_RUNNER_MODULE = "runner.zmq.runner"
_ABSENT = object()


ERROR_FLUSH_SECONDS = 5.0
"""How long, at most, the process of a node whose code raised waits for ZeroMQ to write its error message
before it ends. noob's node sends the error, runs its deinit and returns from ``NodeRunner.run``, and
multiprocessing then ends the process through ``os._exit`` without closing its sockets: a message
ZeroMQ's I/O thread has not written yet is lost, and the runner waits for it forever (``process()`` has no
timeout). With noob alone that loses an error in some runs, and in most on a loaded machine. So, after
``run`` has returned (the node's own deinit done, its event loop closed), the sockets of the context the
error went through are closed with this linger and the context ended: that returns as soon as every
pending message is written, at once on a healthy machine, and this long (a second more at worst) only
when nobody listens any more. A SIGTERM from the runner meanwhile ends the wait quietly."""


class RunnerInternalsWarning(RuntimeWarning):
    """noobwire did not hook noob's runner (its internals are not the ones expected) or stopped using
    the hook for a message; messages go as single frames instead."""


class UnpatchedNodesError(TimeoutError):
    """Nodes of a runner whose parent process has noobwire installed speak noob's own JSON: they were
    started without noobwire, cannot read its frames, and would never become ready. A ``TimeoutError``,
    which noob's ``ZMQRunner.init()`` answers by ending its node processes before it raises it again.

    ``nodes`` are their ids.
    """

    def __init__(self, nodes: Sequence[str]) -> None:
        self.nodes = sorted(nodes)
        many = len(self.nodes) > 1
        super().__init__(
            f"node{'s' if many else ''} {', '.join(map(repr, self.nodes))} of this runner sent noob's JSON "
            f"to a process where noobwire is installed: {'they were' if many else 'it was'} started "
            "without noobwire and cannot read its frames. Processes started by spawn or forkserver get "
            "noobwire from the start-up hook noobwire_install.pth, which an interpreter reads as it "
            "starts when NOOBWIRE_INSTALL is set: check that they run an interpreter that has noobwire "
            "installed (that file in its site-packages, and not started with -S), or call "
            "noobwire.noob.install() in every process of the runner, or in none"
        )


class RunnerPatch:
    """noobwire hooked into one noob package's runner; :func:`unpatch` undoes it.

    ``sent_frames`` / ``received_frames`` count the messages this process sent and decoded through the
    hook as frames (a message of one frame counts too); ``active`` is False once unpatched.
    """

    def __init__(
        self,
        package: ModuleType,
        encode_frames: EncodeFrames,
        decode_frames: DecodeFrames,
        threshold: int,
        wait_for_send: bool,
        is_legacy: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.package = package
        self.encode_frames = encode_frames
        self.decode_frames = decode_frames
        self.threshold = threshold
        self.wait_for_send = wait_for_send
        self.is_legacy = is_legacy
        self.watching = False
        """Whether the watch for nodes started without noobwire is on (see the module's docstring)."""
        self.legacy_senders: set[str] = set()
        """The identities (noob's node ids) of the peers whose messages reached a watched ROUTER socket
        as frames that ``is_legacy`` tells are noob's own JSON."""
        self.legacy_senders_of: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
        """The same, by the command node whose ROUTER socket received them (node ids repeat across
        runners: one runner's unpatched node says nothing of another's)."""
        self.active = False
        self.sent_frames = 0
        self.received_frames = 0
        self._replaced: list[tuple[type, str, Any]] = []
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        state = "active" if self.active else "inactive"
        return f"<noobwire runner patch of {self.package.__name__}, {state}, threshold={self.threshold}>"

    def _replace(self, owner: type, name: str, new: Any) -> None:
        """Set ``owner.name`` to ``new``, remembering what ``owner`` itself held there."""
        self._replaced.append((owner, name, vars(owner).get(name, _ABSENT)))
        setattr(owner, name, new)

    def _restore(self) -> None:
        for owner, name, previous in reversed(self._replaced):
            if previous is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, previous)
        self._replaced.clear()

    def _warn_once(self, key: str, text: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(text, RunnerInternalsWarning, stacklevel=3)


_lock = threading.Lock()
_active: RunnerPatch | None = None


def patch_runner(
    noob: str | ModuleType = "noob",
    *,
    encode_frames: EncodeFrames,
    decode_frames: DecodeFrames,
    threshold: int = DEFAULT_BUFFER_THRESHOLD,
    wait_for_send: bool = True,
    is_legacy: Callable[[bytes], bool] | None = None,
) -> RunnerPatch:
    """Hook noob's ZeroMQ runner so that event messages travel as ``encode_frames``' frames, zero-copy.

    ``noob`` is the noob package (or its name). ``encode_frames`` / ``decode_frames`` are the codec (see
    :data:`EncodeFrames`, :data:`DecodeFrames`); buffers of at least ``threshold`` bytes are meant to go
    out of band. With ``wait_for_send`` (the default), a node's ``publish_events`` returns only once
    ZeroMQ no longer reads the mutable buffers it sent without a copy. With ``is_legacy`` (whether a
    frame is noob's own JSON), the runner's ``init()`` stops with :class:`UnpatchedNodesError` as soon as
    a node it waits for speaks JSON, instead of waiting ten seconds for it (``patch.watching``).

    Returns the patch, also when noob's runner is not laid out as this hook expects: then nothing is
    patched (``patch.active`` is False) and a :class:`RunnerInternalsWarning` lists what differs; where
    only ``CommandNode.await_ready`` differs, everything but the watch is patched, with that warning. Raises
    ``ImportError`` if the package or its ZeroMQ runner cannot be imported, and ``RuntimeError`` if a
    patch is active already. Call it after ``install()``, before the runner starts its processes.
    """
    global _active
    if type(threshold) is not int or threshold < 0:
        raise ValueError(f"threshold must be a non-negative int, not {threshold!r}")
    with _lock:
        if _active is not None:
            raise RuntimeError(f"noobwire already hooks {_active.package.__name__}'s runner; unpatch() first")
        package = importlib.import_module(noob) if isinstance(noob, str) else noob
        modules = _runner_modules(package)
        patch = RunnerPatch(package, encode_frames, decode_frames, threshold, wait_for_send, is_legacy)
        problems = internals_problems(*modules)
        if problems:
            listed = "; ".join(problems)
            warnings.warn(
                f"noobwire did not hook {package.__name__}'s ZeroMQ runner, whose internals are not the "
                f"ones it expects ({listed}): event messages go as single frames",
                RunnerInternalsWarning,
                stacklevel=2,
            )
            return patch
        command = None
        if is_legacy is not None:
            command, problems = _watched_command(package)
            if problems:
                warnings.warn(
                    f"noobwire hooked {package.__name__}'s ZeroMQ runner but cannot watch for nodes started "
                    f"without noobwire ({'; '.join(problems)}): such nodes make the runner's init() time "
                    "out after ten seconds without naming them",
                    RunnerInternalsWarning,
                    stacklevel=2,
                )
        _apply(patch, *modules)
        if command is not None:
            _watch(patch, command)
        _active = patch
        return patch


def unpatch(patch: RunnerPatch) -> None:
    """Undo :func:`patch_runner`: put back what it replaced. Sockets registered while patched pass their
    messages through unchanged from now on. Does nothing for a patch that is not active."""
    global _active
    with _lock:
        if not patch.active:
            return
        patch.active = False
        patch._restore()
        if _active is patch:
            _active = None


def active_runner_patch() -> RunnerPatch | None:
    """The active patch, or None."""
    return _active


def _runner_modules(package: ModuleType) -> tuple[ModuleType, ModuleType, ModuleType]:
    name = package.__name__
    return tuple(  # type: ignore[return-value]
        importlib.import_module(f"{name}.{sub}") for sub in (_MESSAGE_MODULE, _LOOP_MODULE, _NODE_MODULE)
    )


# --- the runners this process has started ------------------------------------------------------------


@dataclass(frozen=True)
class StartedRunner:
    """A noob ZeroMQ runner of this process that has started its node processes."""

    runner_id: str
    """noob's id of the runner (``ZMQRunner.runner_id``)."""
    command_thread: str
    """The name of the thread of this process that runs its command node."""
    node_processes: dict[str, int]
    """The node processes it started that still run: node id to process id."""

    def __str__(self) -> str:
        nodes = ", ".join(f"{node} (pid {pid})" for node, pid in sorted(self.node_processes.items()))
        return f"runner {self.runner_id}: its command node (thread {self.command_thread!r})" + (
            f" and node processes {nodes}" if nodes else ""
        )


def started_runners(noob: str | ModuleType = "noob") -> list[StartedRunner]:
    """The ZeroMQ runners of the noob package ``noob`` (or its name) that this process has started and
    that still run; an empty list if there are none, or if noob's runner was never imported here.

    noob keeps no list of its runners, so they are found by what they leave: an initialized
    ``ZMQRunner`` (1000.0.0 to 1003.x) runs its command node in a thread of this process, a live thread
    whose target is a ``CommandNode``'s ``run``, and names each node process it starts
    ``"<runner id>.<node id>"`` (multiprocessing forgets a started process's target, so the name is
    what tells them). A runner counts while one of its node processes is alive, and, with none, while a
    thread of this process runs a runner's ``init()`` (the first node may have started before
    multiprocessing lists it); not after ``deinit()`` (which in noob 1000 leaves the thread alive) or a
    failed ``init()``. A runner laid out otherwise is not found.
    """
    name = noob if isinstance(noob, str) else noob.__name__
    command_class = getattr(sys.modules.get(f"{name}.{_COMMAND_MODULE}"), "CommandNode", None)
    if not isinstance(command_class, type):
        return []
    initializing = _initializing(f"{name}.{_RUNNER_MODULE}")
    multiprocessing = sys.modules.get("multiprocessing")
    children = multiprocessing.active_children() if multiprocessing is not None else []
    found = []
    for thread in threading.enumerate():
        owner = getattr(getattr(thread, "_target", None), "__self__", None)  # Thread's own attribute
        runner_id = str(getattr(owner, "runner_id", ""))
        if not isinstance(owner, command_class) or not runner_id or not thread.is_alive():
            continue
        prefix = f"{runner_id}."
        nodes = {
            child.name.removeprefix(prefix): child.pid
            for child in children
            if child.name.startswith(prefix) and child.pid is not None
        }
        if nodes or initializing:
            found.append(StartedRunner(runner_id, thread.name, nodes))
    return found


def _initializing(runner_module: str) -> bool:
    """Whether a thread of this process is running a runner's ``init()`` (of ``runner_module``); read
    from the threads' frames, not their locals, which another thread may be changing."""
    for top in sys._current_frames().values():
        frame: FrameType | None = top
        while frame is not None:
            if frame.f_code.co_name == "init" and frame.f_globals.get("__name__") == runner_module:
                return True
            frame = frame.f_back
    return False


# --- the check: is noob's runner laid out as the hook expects? ------------------------------------


def _watched_command(package: ModuleType) -> tuple[ModuleType | None, list[str]]:
    """noob's command-node module, if the watch for unpatched nodes can hook it; else None, and why."""
    name = f"{package.__name__}.{_COMMAND_MODULE}"
    try:
        command = importlib.import_module(name)
    except ImportError as exc:
        return None, [f"{name} cannot be imported ({exc})"]
    problems = _await_ready_problems(command)
    return (None if problems else command), problems


def internals_problems(
    message: ModuleType, loop: ModuleType, node: ModuleType, command: ModuleType | None = None
) -> list[str]:
    """What in noob's message, event-loop and node-runner modules (and, if given, its command-node
    module, which the watch for unpatched nodes needs) differs from what the hook expects (see the
    module's docstring); an empty list if nothing does."""
    problems: list[str] = [] if command is None else _await_ready_problems(command)
    for cls_name in ("Message", "EventMsg"):
        if not isinstance(getattr(message, cls_name, None), type):
            problems.append(f"{message.__name__} has no class {cls_name}")
    message_class = getattr(message, "Message", None)
    if isinstance(message_class, type) and not isinstance(vars(message_class).get("from_bytes"), classmethod):
        problems.append("Message.from_bytes is not a classmethod of Message itself")
    if isinstance(getattr(message, "EventMsg", None), type) and not callable(
        getattr(message.EventMsg, "to_bytes", None)
    ):
        problems.append("EventMsg has no to_bytes()")
    mixin = getattr(loop, "EventloopMixin", None)
    runner = getattr(node, "NodeRunner", None)
    if mixin is None:
        problems.append(f"{loop.__name__} has no EventloopMixin")
    else:
        problems += _register_socket_problems(mixin)
        problems += _receive_problems(mixin)
    if runner is None:
        problems.append(f"{node.__name__} has no NodeRunner")
    else:
        problems += _publish_problems(runner)
    return problems


def _await_ready_problems(command: ModuleType) -> list[str]:
    """What in ``CommandNode.await_ready`` differs from ``(self, node_ids, timeout=<seconds>)``, a plain
    function that raises ``TimeoutError`` (what the watch calls in slices of a second)."""
    owner = getattr(command, "CommandNode", None)
    if not isinstance(owner, type):
        return [f"{command.__name__} has no class CommandNode"]
    function, tree, why = _function_tree(owner, "await_ready")
    if function is None or tree is None:
        return [why or "CommandNode.await_ready cannot be read"]
    parameters = inspect.signature(function).parameters
    timeout = parameters.get("timeout")
    if (
        list(parameters) != ["self", "node_ids", "timeout"]
        or timeout is None
        or type(timeout.default) not in (int, float)
        or inspect.iscoroutinefunction(function)
    ):
        return ["CommandNode.await_ready is not a function (self, node_ids, timeout=<seconds>)"]
    raises = [node for node in ast.walk(tree) if isinstance(node, ast.Raise) and node.exc is not None]
    if not any("TimeoutError" in ast.unparse(node.exc) for node in raises):  # type: ignore[arg-type]
        return ["CommandNode.await_ready does not raise TimeoutError"]
    return []


def _function_tree(owner: type, name: str) -> tuple[Any, ast.AST | None, str | None]:
    """The function ``owner.name``, its parsed source, and why either is missing."""
    function = vars(owner).get(name)
    if not inspect.isfunction(function):
        return None, None, f"{owner.__name__}.{name} is not a function"
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError) as exc:
        return function, None, f"the source of {owner.__name__}.{name} is not available ({exc})"
    return function, ast.parse(source), None


def _coroutine_tree(owner: type, name: str) -> tuple[ast.AST | None, str]:
    """The parsed source of the coroutine function ``owner.name``; else None, and why."""
    function, tree, why = _function_tree(owner, name)
    if why or tree is None:
        return None, why or f"{owner.__name__}.{name} cannot be read"
    if not inspect.iscoroutinefunction(function):
        return None, f"{owner.__name__}.{name} is not a coroutine function"
    return tree, ""


def _calls(tree: ast.AST, attribute: str) -> list[ast.Call]:
    """The calls ``<anything>.attribute(...)`` in ``tree``."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attribute
    ]


def _register_socket_problems(mixin: type) -> list[str]:
    function, _, why = _function_tree(mixin, "register_socket")
    if why and function is None:
        return [why]
    names = list(inspect.signature(function).parameters)
    if names != ["self", "name", "socket", "receiver"]:
        return [f"EventloopMixin.register_socket takes {names}, not (self, name, socket, receiver)"]
    return []


def _receive_problems(mixin: type) -> list[str]:
    tree, why = _coroutine_tree(mixin, "_poll_receiver")
    if tree is None:
        return [why]
    receives = _calls(tree, "recv_multipart")
    if len(receives) != 1 or receives[0].args or receives[0].keywords:
        return ["EventloopMixin._poll_receiver does not receive with one plain recv_multipart()"]
    if len(_calls(tree, "from_bytes")) != 1:
        return ["EventloopMixin._poll_receiver does not decode with one from_bytes()"]
    return []


def _publish_problems(runner: type) -> list[str]:
    tree, why = _coroutine_tree(runner, "publish_events")
    if tree is None:
        return [why]
    encodes = _calls(tree, "to_bytes")
    sends = [
        call
        for call in _calls(tree, "send_multipart")
        if call.args and isinstance(call.args[0], ast.List) and call.args[0].elts
    ]
    if len(encodes) != 1 or len(sends) != 1 or sends[0].args[0].elts[-1] is not encodes[0]:  # type: ignore[attr-defined]
        return [
            "NodeRunner.publish_events does not send its message as the last frame of one "
            "send_multipart([..., msg.to_bytes()])"
        ]
    return []


# --- the patch -------------------------------------------------------------------------------------


def _apply(patch: RunnerPatch, message: ModuleType, loop: ModuleType, node: ModuleType) -> None:
    import zmq

    event_class = message.EventMsg
    message_class = message.Message
    mixin = loop.EventloopMixin
    runner = node.NodeRunner
    patch.active = True
    patch._replace(event_class, "to_bytes", _event_to_bytes(patch, event_class))
    patch._replace(message_class, "from_bytes", classmethod(_from_bytes(patch, message_class, zmq.Frame)))
    patch._replace(
        mixin, "register_socket", _register_socket(patch, mixin.register_socket, zmq.SUB, zmq.ROUTER)
    )
    patch._replace(runner, "publish_events", _publish_events(patch, runner.publish_events))
    run = vars(runner).get("run")
    if inspect.iscoroutinefunction(getattr(runner, "error", None)) and isinstance(run, classmethod):
        patch._replace(runner, "error", _error(patch, runner.error))
        patch._replace(runner, "run", classmethod(_run(run.__func__)))
    zmq_runner = getattr(_optional_module(f"{patch.package.__name__}.{_RUNNER_MODULE}"), "ZMQRunner", None)
    get_epoch_future = vars(zmq_runner).get("_get_epoch_future") if isinstance(zmq_runner, type) else None
    if inspect.isfunction(get_epoch_future):
        patch._replace(zmq_runner, "_get_epoch_future", _epoch_future(get_epoch_future))  # type: ignore[arg-type]


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _epoch_future(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def _get_epoch_future(self: Any, epoch: Any) -> Any:
        """noob's ``ZMQRunner._get_epoch_future``; if the command node completed the epoch's future
        while noob's was about to, that future (patched by noobwire: see the module's docstring)."""
        try:
            return original(self, epoch)
        except (concurrent.futures.InvalidStateError, KeyError):
            future = self._epoch_futures.get(epoch)
            if future is not None and future.done():
                return future
            # noob 1000 drops the future it completed (as the epoch ends), so noob's finds none
            if future is None and self.tube.scheduler.epoch_completed(epoch):
                done: concurrent.futures.Future[Any] = concurrent.futures.Future()
                done.set_result(epoch)
                return done
            raise

    return _get_epoch_future


class _OutgoingFrames:
    """What ``EventMsg.to_bytes()`` answers inside a publishing scope: the message's frames, for the
    socket that sends them (only a socket registered while patched knows what to do with it)."""

    __slots__ = ("frames", "released", "sent")

    def __init__(self, frames: list[Any]) -> None:
        self.frames: list[Any] | None = frames
        self.sent = False
        self.released: asyncio.Future[None] | None = None

    def take(self, wait: bool) -> list[Any]:
        """The frames to send; with ``wait``, ``released`` becomes a future that is done when ZeroMQ
        has let go of every frame that is not ``bytes`` (immutable ``bytes`` need no waiting for)."""
        frames, self.frames, self.sent = self.frames, None, True
        if frames is None:
            raise RuntimeError("the frames of one message were sent twice")
        if not wait or all(type(frame) is bytes for frame in frames):
            return frames
        loop = asyncio.get_running_loop()
        released: asyncio.Future[None] = loop.create_future()
        self.released = released
        watched = [frame if type(frame) is bytes else memoryview(frame) for frame in frames]
        pending = [sum(type(frame) is not bytes for frame in frames)]
        for frame in watched:
            if type(frame) is not bytes:
                finalizer = weakref.finalize(frame, _in_loop, loop, _count_down, released, pending)
                finalizer.atexit = False
        return watched


def _in_loop(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    """Run ``callback(*args)`` in ``loop``'s thread (called from pyzmq's garbage-collector thread)."""
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(callback, *args)


def _count_down(released: asyncio.Future[None], pending: list[int]) -> None:
    pending[0] -= 1
    if pending[0] == 0 and not released.done():
        released.set_result(None)


class _PublishScope:
    """The frames that ``EventMsg.to_bytes()`` answered with during one ``publish_events`` call."""

    __slots__ = ("outgoing",)

    def __init__(self) -> None:
        self.outgoing: list[_OutgoingFrames] = []


_scope: contextvars.ContextVar[_PublishScope | None] = contextvars.ContextVar(
    "noobwire_publish_scope", default=None
)


def _event_to_bytes(patch: RunnerPatch, event_class: type) -> Callable[[Any], Any]:
    previous = vars(event_class).get("to_bytes", _ABSENT)
    parent: Any = event_class.__mro__[1]  # its to_bytes is looked up at each call: install() may replace it

    def to_bytes(self: Any) -> Any:
        """One frame; inside noobwire's publishing scope, the message's frames (patched by noobwire)."""
        scope = _scope.get()
        if scope is not None and patch.active:
            frames = _encode(patch, self)
            if frames is not None and len(frames) == 1 and type(frames[0]) is bytes:
                return frames[0]  # no buffer of its own: one frame, which any socket sends as noob's
            if frames is not None:
                outgoing = _OutgoingFrames(frames)
                scope.outgoing.append(outgoing)
                return outgoing
        if previous is _ABSENT:
            return parent.to_bytes(self)
        return previous(self)

    return to_bytes


def _encode(patch: RunnerPatch, msg: Any) -> list[Any] | None:
    """``patch.encode_frames(msg)``; None (and a warning, once) if it fails: noob's own frame is sent."""
    try:
        frames = patch.encode_frames(msg, patch.threshold)
    except Exception as exc:
        patch._warn_once(
            f"encode:{type(exc).__name__}",
            f"noobwire could not encode an event message as frames ({type(exc).__name__}: {exc}); "
            "it goes as one frame",
        )
        return None
    if frames is not None:
        patch.sent_frames += 1
    return frames


def _from_bytes(patch: RunnerPatch, message_class: type, frame_type: type) -> Callable[..., Any]:
    previous = vars(message_class)["from_bytes"]

    def from_bytes(cls: type, msg: Any) -> Any:
        """Decode a message received as frames by a patched socket (``zmq.Frame`` objects, which noob's
        own ``recv_multipart()`` never gives); anything else as before (patched by noobwire)."""
        if type(msg) is list and msg and type(msg[-1]) is frame_type:
            if patch.active:
                decoded = patch.decode_frames(msg)
                if decoded is not None:
                    patch.received_frames += 1
                    return decoded
            msg = [frame.bytes for frame in msg]
        return previous.__get__(None, cls)(msg)

    return from_bytes


def _watch(patch: RunnerPatch, command: ModuleType) -> None:
    """Turn on the watch for nodes started without noobwire (see the module's docstring)."""
    owner = command.CommandNode
    patch.watching = True
    patch._replace(owner, "await_ready", _await_ready(patch, vars(owner)["await_ready"]))


def _register_socket(
    patch: RunnerPatch, original: Callable[..., None], sub_type: int, router_type: int
) -> Callable[..., None]:
    def register_socket(self: Any, name: str, socket: Any, receiver: bool = False) -> None:
        """Register a socket, and let it carry noobwire's frames (patched by noobwire)."""
        original(self, name, socket, receiver)
        socket.send_multipart = _sending(patch, socket.send_multipart)
        if not receiver:
            return
        kind = socket.getsockopt(_zmq_type())
        if kind == sub_type:
            socket.recv_multipart = _receiving(patch, socket.recv_multipart)
        elif kind == router_type and patch.watching:
            socket.recv_multipart = _noting_legacy_senders(patch, socket.recv_multipart, self)

    return register_socket


def _noting_legacy_senders(
    patch: RunnerPatch, recv_multipart: Callable[..., Any], command: Any
) -> Callable[..., Any]:
    """A ROUTER's ``recv_multipart`` that notes the senders of noob's JSON (``patch.legacy_senders``, and
    ``patch.legacy_senders_of[command]``)."""
    senders = patch.legacy_senders_of.setdefault(command, set())

    async def noting(frames: Any) -> Any:
        received = await frames
        is_legacy = patch.is_legacy
        if patch.active and is_legacy is not None and len(received) > 1:
            last, identity = (getattr(frame, "bytes", frame) for frame in (received[-1], received[0]))
            if len(last) and is_legacy(last):
                sender = bytes(identity).decode("utf-8", "replace")
                senders.add(sender)
                patch.legacy_senders.add(sender)
        return received

    def receive(flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        return noting(recv_multipart(flags=flags, copy=copy, track=track))

    return receive


WATCH_SLICE_SECONDS = 1.0
"""How long the watched ``CommandNode.await_ready`` lets noob's own wait at a time before it looks for
nodes that spoke JSON (noob pings the nodes that are not ready once a second too)."""


def _await_ready(patch: RunnerPatch, original: Callable[..., None]) -> Callable[..., None]:
    def await_ready(self: Any, node_ids: Any, timeout: float = 10) -> None:
        """noob's ``await_ready``, in slices of a second, raising :class:`UnpatchedNodesError` as soon as a
        node it waits for has sent noob's JSON (patched by noobwire)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                original(self, node_ids, min(WATCH_SLICE_SECONDS, max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                _refuse_unpatched(patch, self, node_ids)
                if time.monotonic() >= deadline:
                    raise
            else:
                # A node that needs nothing from the runner to be ready (a source) is ready in noob's JSON
                # too, and the run would then wait for events it cannot read.
                _refuse_unpatched(patch, self, node_ids)
                return

    return await_ready


def _refuse_unpatched(patch: RunnerPatch, command: Any, node_ids: Any) -> None:
    senders = patch.legacy_senders_of.get(command, set())
    unpatched = senders.intersection(node_ids) if patch.active else set()
    if unpatched:
        raise UnpatchedNodesError(sorted(unpatched)) from None


def _zmq_type() -> int:
    import zmq

    return int(zmq.TYPE)


def _sending(patch: RunnerPatch, send_multipart: Callable[..., Any]) -> Callable[..., Any]:
    def send(
        msg_parts: Sequence[Any], flags: int = 0, copy: bool = True, track: bool = False, **kw: Any
    ) -> Any:
        if type(msg_parts) is list and any(type(part) is _OutgoingFrames for part in msg_parts):
            parts: list[Any] = []
            for part in msg_parts:
                if type(part) is _OutgoingFrames:
                    parts += part.take(patch.wait_for_send)
                else:
                    parts.append(part)
            return send_multipart(parts, flags=flags, copy=False, track=track, **kw)
        return send_multipart(msg_parts, flags=flags, copy=copy, track=track, **kw)

    return send


def _receiving(patch: RunnerPatch, recv_multipart: Callable[..., Any]) -> Callable[..., Any]:
    def receive(flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        if not patch.active:
            return recv_multipart(flags=flags, copy=copy, track=track)
        return recv_multipart(flags=flags, copy=False, track=track)

    return receive


def _publish_events(patch: RunnerPatch, original: Callable[..., Any]) -> Callable[..., Any]:
    async def publish_events(self: Any, *args: Any, **kwargs: Any) -> Any:
        """noob's ``publish_events``, its event message sent as frames (patched by noobwire)."""
        scope = _PublishScope()
        token = _scope.set(scope)
        try:
            result = await original(self, *args, **kwargs)
        finally:
            _scope.reset(token)
        for outgoing in scope.outgoing:
            if not outgoing.sent:
                patch._warn_once(
                    "unsent",
                    "noob's publish_events did not send its message through a socket noobwire patched; "
                    "noobwire stops sending frames",
                )
                unpatch(patch)
            elif outgoing.released is not None:
                await outgoing.released
        return result

    return publish_events


_contexts_to_flush: list[Any] = []
"""The ZeroMQ contexts of the node errors sent in this process, for the end of ``NodeRunner.run``."""


def _error(patch: RunnerPatch, original: Callable[..., Any]) -> Callable[..., Any]:
    async def error(self: Any, err: BaseException) -> None:
        """noob's ``NodeRunner.error``; the context its message went through is written out before the
        node's process ends (patched by noobwire: see ``ERROR_FLUSH_SECONDS``)."""
        await original(self, err)
        if patch.active:
            _contexts_to_flush.append(self.sockets["dealer"].context)

    return error


def _run(original: Callable[..., Any]) -> Callable[..., Any]:
    def run(cls: type, *args: Any, **kwargs: Any) -> Any:
        """noob's ``NodeRunner.run`` (a node process's target); then, if the node sent an error, a wait
        until ZeroMQ has written it (patched by noobwire: see ``ERROR_FLUSH_SECONDS``)."""
        try:
            return original(cls, *args, **kwargs)
        finally:
            while _contexts_to_flush:
                flush_before_exit(_contexts_to_flush.pop())

    return run


def flush_before_exit(context: Any) -> None:
    """In a process that multiprocessing started (a node's), close every socket of the ZeroMQ ``context``
    and end it, which returns once their pending messages are written: waited for at most
    :data:`ERROR_FLUSH_SECONDS` (and a second more for a socket something closed earlier without a
    linger). Elsewhere nothing: the process goes on, and so does ZeroMQ's writing, and the context may
    serve sockets that still work."""
    if multiprocessing.parent_process() is None:
        return
    ending = threading.Thread(
        target=_destroy, args=(context, int(ERROR_FLUSH_SECONDS * 1000)), name="noobwire-flush", daemon=True
    )
    ending.start()
    with contextlib.suppress(KeyboardInterrupt):  # noob's SIGTERM handler: the runner ends the node now
        ending.join(ERROR_FLUSH_SECONDS + 1)


def _destroy(context: Any, linger: int) -> None:
    import zmq

    with contextlib.suppress(zmq.ZMQError):
        context.destroy(linger=linger)
