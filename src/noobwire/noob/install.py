"""Drop-in for noob itself: make an installed noob's messages travel as noobwire frames.

``install()`` patches ``Message.to_bytes()`` and ``Message.from_bytes()`` of noob's message module (every
message class inherits them), so that a noob runner writes noobwire MessagePack frames, reads them (and the
legacy JSON of unpatched peers) back into noob's *own* classes, and changes nothing else. It first
recognises which generation of noob's schema the module has (:func:`noobwire.noob.compat.recognize`:
noob 1000 to 1003, or the reference), and refuses with :class:`IncompatibleNoobError` naming what
differs otherwise.
``uninstall()`` puts back the very objects it replaced.

The processes a runner starts inherit the patch: by fork, as a copy of this process; by spawn or forkserver,
through the environment variable ``NOOBWIRE_INSTALL`` that ``install()`` sets, which the start-up hook
shipped with noobwire reads in every new interpreter (see ``_noobwire_install``).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import FrameType, ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from _noobwire_environment import (
    DEFAULT_MODULE,
    ENV_ALLOW_PICKLE,
    ENV_INSTALL,
    ENV_JSON_FALLBACK,
    ENV_ZERO_COPY,
    env_flag,
)
from noobwire._core.extensions import PICKLE_OFF
from noobwire._core.framing import is_json
from noobwire.codec import Codec
from noobwire.layout import Generation, resolve, resolve_module
from noobwire.noob.compat import recognize
from noobwire.options import DEFAULT_OPTIONS, Options

if TYPE_CHECKING:
    from noobwire.noob.runner_hook import RunnerPatch, StartedRunner

__all__ = [
    "DEFAULT_MODULE",
    "ENV_INSTALL",
    "ENV_JSON_FALLBACK",
    "ENV_ZERO_COPY",
    "IncompatibleNoobError",
    "Installation",
    "RunnerStartedError",
    "active_installation",
    "frame_codec",
    "hook_runner",
    "install",
    "install_from_environment",
    "uninstall",
]

_PATCHED = ("to_bytes", "from_bytes")
_ABSENT = object()


class IncompatibleNoobError(RuntimeError):
    """The noob message module's schema is none of the generations noobwire knows, so nothing was
    patched.

    ``differences`` lists how it differs from the closest of them (``closest``), one item each.
    """

    def __init__(self, module_name: str, differences: list[str], closest: Generation | None = None) -> None:
        self.module_name = module_name
        self.differences = differences
        self.closest = closest
        version = _distribution_version(module_name)
        listed = "\n".join(f"  - {difference}" for difference in differences)
        against = f"; it differs from the closest, {closest.summary}, in:" if closest is not None else ":"
        super().__init__(
            f"{module_name}{f' (noob {version})' if version else ''} does not have a message schema "
            f"that noobwire knows, so noobwire did not patch it (its peers would misread its frames)"
            f"{against}\n{listed}"
        )


class RunnerStartedError(RuntimeError):
    """:func:`install` was called after a noob runner of this process had started its node processes:
    they speak noob's JSON and cannot read noobwire's frames, so the runner would wait for them
    forever. Nothing was patched.

    ``runners`` are the runners found running
    (:class:`noobwire.noob.runner_hook.StartedRunner`: each one's id and node processes).
    """

    def __init__(self, module_name: str, runners: list[StartedRunner]) -> None:
        self.runners = runners
        listed = "\n".join(f"  - {runner}" for runner in runners)
        super().__init__(
            f"noobwire was not installed into {module_name}: a noob ZeroMQ runner of this process has "
            "already started its node processes, which speak noob's JSON and cannot read noobwire's "
            "frames (the runner would wait for them forever). Call noobwire.noob.install() before the "
            "runner starts them, that is before ZMQRunner.init() or its 'with ZMQRunner(...)' block, or "
            f"deinit() the runner first. Running now:\n{listed}"
        )


class Installation(AbstractContextManager["Installation"]):
    """noobwire installed into one noob message module; a context manager that releases, on exit, the
    :func:`install` call that gave it (see :meth:`release`)."""

    def __init__(
        self,
        module: ModuleType,
        json_fallback: bool,
        generation: Generation,
        options: Options = DEFAULT_OPTIONS,
    ) -> None:
        self.module = module
        """The patched module."""
        self.generation = generation
        """The generation of the schema the module has, bound to its classes: what its frames carry."""
        self.json_fallback = json_fallback
        """Whether ``from_bytes()`` still reads legacy JSON frames."""
        self.codec = Codec(
            generation=generation, allow_pickle=options.allow_pickle, accept_json=json_fallback
        )
        """What ``to_bytes()`` / ``from_bytes()`` and the runner hook encode and decode with: the module's
        generation, the pickle policy (``install(allow_pickle=...)``, else ``NOOBWIRE_ALLOW_PICKLE``), and
        legacy JSON read or refused as ``json_fallback`` says."""
        self.options = self.codec.options
        self.guards: list[tuple[Any, str, Any]] = []
        """What was changed in noob beyond ``Message`` while pickle is off (see :func:`install`), as
        ``(owner, attribute, what it held)``; ``uninstall()`` puts these back."""
        self.zero_copy = True
        """Whether noob's ZeroMQ runner is hooked to send large buffers out of band."""
        self.classes: dict[str, type[Any]] = dict(generation.classes)
        """The module's class for each message type: what ``from_bytes()`` builds."""
        self.message_class: type[Any] = module.Message
        self.originals: dict[str, Any] = {
            name: vars(self.message_class).get(name, _ABSENT) for name in _PATCHED
        }
        """What ``Message.__dict__`` held under each patched name; ``uninstall()`` puts these back."""
        self.environment: dict[str, str | None] = {}
        self.forkserver_pid: int | None = None
        self.runner_patch: RunnerPatch | None = None
        """The hook in noob's ZeroMQ runner that sends large buffers out of band (None until it is
        applied: at once by :func:`install`, when noob's runner is imported by the start-up hook)."""
        self.holds = 1
        """How many :func:`install` calls this installation answers that are not released yet (by the end
        of their ``with`` block): the last release uninstalls it."""

    def __repr__(self) -> str:
        return f"<noobwire installed into {self.module.__name__}, json_fallback={self.json_fallback}>"

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def release(self) -> None:
        """Release one :func:`install` call of this installation, as the end of its ``with`` block does;
        the last release uninstalls it. So ``with install():`` blocks nest: noobwire stays installed
        until the outermost one ends (a plain ``install()`` call holds it until :func:`uninstall`). An
        installation that is no longer the active one is left alone."""
        with _lock:
            if _active is not self:
                return
            self.holds -= 1
            if self.holds <= 0:
                uninstall()


_lock = threading.RLock()
_active: Installation | None = None


def install(
    json_fallback: bool = True,
    *,
    module: str | ModuleType = DEFAULT_MODULE,
    zero_copy: bool = True,
    allow_pickle: bool | None = None,
) -> Installation:
    """Make noob's ``Message.to_bytes()`` / ``from_bytes()`` write and read noobwire frames.

    The module's schema decides the generation (:mod:`noobwire.generations`) and so the wire-format
    version its frames carry: noob 1003.x, 1002.x, 1000.x to 1001.x, or the reference schema.
    ``from_bytes()`` decodes into the module's own classes (``isinstance(msg, ErrorMsg)`` holds with noob's
    ``ErrorMsg``; epochs are noob's own); with ``json_fallback`` it still reads the legacy JSON frames of
    unpatched peers, under noobwire's pickle policy (with ``NOOBWIRE_ALLOW_PICKLE=0`` a ``pck__`` value,
    which noob's own reader would unpickle, is refused), and without it refuses them with a
    :class:`noobwire.DecodeError`. ``module`` is the message module (default ``noob.network.message``), by
    name or as the module itself.

    With ``zero_copy`` (the default) noob's ZeroMQ runner is hooked too (:mod:`noobwire.noob.runner_hook`):
    an event message whose values hold arrays or bytes of 64 KiB or more goes out as frames of its own,
    sent without a copy and received as views over the frames, in every receiver; small messages stay
    single frames. If noob's runner is not laid out as the hook expects, or pyzmq is missing, messages
    go as single frames (with a :class:`noobwire.noob.runner_hook.RunnerInternalsWarning` for the former).

    ``allow_pickle``: the pickle policy of every frame the patched classes write and read (None: what
    ``NOOBWIRE_ALLOW_PICKLE`` says, else on). With pickle off, noob's own classes are made safe too while
    installed: the ``pickle`` that noob's ``Picklable`` validator unpickles ``pck__`` strs with refuses
    to (so no str becomes a pickle when noob builds a new message from values it holds), and computed
    fields that import what a value names (noob 1003's ``NodeSpecification.nodeinfo``) are left out of
    ``repr()`` (see the security guide).

    Sets ``NOOBWIRE_INSTALL`` (and ``NOOBWIRE_JSON_FALLBACK``, ``NOOBWIRE_ZERO_COPY``, and
    ``NOOBWIRE_ALLOW_PICKLE`` if ``allow_pickle`` is given) so that processes started from now on by spawn
    or forkserver are patched too; call it before the runner starts its processes. Installing again with the
    same arguments returns the active installation; with others, :func:`uninstall` first.

    ``with install():`` blocks nest: each block releases its own ``install()`` call when it ends, and
    noobwire stays installed until the last one is released (the outermost block; a plain ``install()``
    call, which has no block, holds it until :func:`uninstall`). :func:`uninstall` undoes the
    installation at once, whatever number of calls it answers.

    Raises :class:`RunnerStartedError` (and patches nothing) if a noob ZeroMQ runner of this process has
    already started its node processes (:func:`noobwire.noob.runner_hook.started_runners`): they would
    never read noobwire's frames. Raises :class:`IncompatibleNoobError` (and patches nothing) if the
    module's schema is none of the generations noobwire knows or its package has no such module, and
    ``ImportError`` if the package is not installed. The result is a context manager that releases
    this call on exit (:meth:`Installation.release`): ``with noobwire.noob.install(): ...``.
    """
    global _active
    with _lock:
        target = _import(module) if isinstance(module, str) else module
        options = DEFAULT_OPTIONS if allow_pickle is None else Options(allow_pickle=allow_pickle)
        if _active is not None:
            if _active.module is target and _active.message_class is target.Message:
                if (
                    _active.json_fallback == json_fallback
                    and _active.zero_copy == zero_copy
                    and _active.options.allow_pickle == options.allow_pickle
                ):
                    _active.holds += 1  # a nested install(): the end of its with block keeps the patch
                    return _active
                raise RuntimeError(
                    f"noobwire is installed into {target.__name__} with "
                    f"json_fallback={_active.json_fallback}, zero_copy={_active.zero_copy}, "
                    f"allow_pickle={_active.options.allow_pickle}; uninstall() before installing it with "
                    "other arguments"
                )
            if _active.module is not target:
                raise RuntimeError(
                    f"noobwire is installed into {_active.module.__name__}; uninstall() before installing it "
                    f"into {target.__name__}"
                )
            _active = None  # the module was reloaded: its classes, and the old patch, are gone
        if not _importing:  # (the start-up hook installs in a new interpreter, which has no runner yet)
            _refuse_if_a_runner_started(target)
        recognition = recognize(target)
        if recognition.generation is None:
            closest = recognition.closest
            raise IncompatibleNoobError(target.__name__, recognition.differences[closest], closest)
        installation = Installation(target, json_fallback, recognition.generation.bind(target), options)
        installation.zero_copy = zero_copy
        message = installation.message_class
        message.to_bytes = _to_bytes(installation)
        message.from_bytes = classmethod(_from_bytes(installation))
        if not options.allow_pickle:
            installation.guards = _guard(installation.generation)
        installation.environment = _set_environment(target.__name__, json_fallback, zero_copy, allow_pickle)
        installation.forkserver_pid = _forkserver_pid()
        if installation.forkserver_pid is not None:
            warnings.warn(
                "a multiprocessing forkserver is already running: the processes it starts do not have "
                "noobwire installed (install() before the first process is started)",
                RuntimeWarning,
                stacklevel=2,
            )
        _active = installation
        if zero_copy and not _importing:
            hook_runner()
        if not _importing:
            # Again, now that new processes get noobwire: a runner another thread started meanwhile
            # (between the check above and here) may have started nodes that speak noob's JSON.
            try:
                _refuse_if_a_runner_started(target)
            except RunnerStartedError:
                _uninstall(warn=False)
                raise
        return installation


def _refuse_if_a_runner_started(target: ModuleType) -> None:
    """Raise :class:`RunnerStartedError` if a runner of ``target``'s noob has started its processes."""
    from noobwire.noob.runner_hook import started_runners

    runners = started_runners(target.__name__.partition(".")[0])
    if runners:
        raise RunnerStartedError(target.__name__, runners)


def hook_runner() -> RunnerPatch | None:
    """Hook noob's ZeroMQ runner for the active installation (see :func:`install`'s ``zero_copy``), once;
    the start-up hook calls this when noob's runner is imported. Returns the patch, or None if there is
    no installation with ``zero_copy``, or noob's runner cannot be imported (no pyzmq)."""
    with _lock:
        installation = _active
        if installation is None or not installation.zero_copy:
            return None
        if installation.runner_patch is not None:
            return installation.runner_patch
        package = installation.module.__name__.partition(".")[0]
        try:
            from noobwire.noob.runner_hook import patch_runner

            encode_frames, decode_frames = frame_codec(installation.codec)
            installation.runner_patch = patch_runner(
                package, encode_frames=encode_frames, decode_frames=decode_frames, is_legacy=is_json
            )
        except ImportError:  # noob without its ZeroMQ runner (pyzmq is not installed)
            return None
        return installation.runner_patch


def frame_codec(frames_codec: Codec) -> tuple[Any, Any]:
    """``(encode_frames, decode_frames)`` of a codec (of a noob generation), as the runner hook takes them
    (:mod:`noobwire.noob.runner_hook`): frames for ``socket.send_multipart(frames, copy=False)``, and the
    message of received frames (legacy JSON read or refused as the codec's ``accept_json`` says)."""

    return frames_codec.frames.encode_frames_at, frames_codec.frames.decode_frames


_importing = False
"""True while the start-up hook installs noobwire from inside the import of noob's message module,
when noob's runner cannot be imported yet (the hook hooks it once it is)."""


def uninstall() -> None:
    """Undo :func:`install`: put back noob's own ``to_bytes`` / ``from_bytes`` and the environment, however
    many ``install()`` calls (nested ``with`` blocks) the installation answers.

    Does nothing if noobwire is not installed. Processes already started keep what they had.
    """
    _uninstall(warn=True)


def _uninstall(warn: bool) -> None:
    global _active
    with _lock:
        installation = _active
        if installation is None:
            return
        if installation.runner_patch is not None:
            from noobwire.noob.runner_hook import unpatch

            unpatch(installation.runner_patch)
        message = installation.message_class
        for name, original in installation.originals.items():
            if original is _ABSENT:
                delattr(message, name)
            else:
                setattr(message, name, original)
        for owner, name, previous in reversed(installation.guards):
            setattr(owner, name, previous)
        for variable, value in installation.environment.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value
        _active = None
        if warn:
            _warn_of_runners_left(installation)
        running = _forkserver_pid()
        if running is not None and running != installation.forkserver_pid:
            warnings.warn(
                "the multiprocessing forkserver was started while noobwire was installed: the processes it "
                "starts from now on still have noobwire installed",
                RuntimeWarning,
                stacklevel=2,
            )


def _warn_of_runners_left(installation: Installation) -> None:
    """Warn of the runners that still run after an uninstall: install() refuses while one runs, so
    they started under this installation, and their nodes speak noobwire to a parent that now speaks
    noob's JSON."""
    from noobwire.noob.runner_hook import started_runners

    runners = started_runners(installation.module.__name__.partition(".")[0])
    if runners:
        warnings.warn(
            "noobwire was uninstalled while noob runners started under it still run; their node "
            "processes speak noobwire's frames, this process noob's JSON again, so they no longer "
            "understand each other: deinit() a runner before the end of its install() block. Running: "
            + "; ".join(map(str, runners)),
            RuntimeWarning,
            stacklevel=_stacklevel_outside(),
        )


def _stacklevel_outside() -> int:
    """The ``stacklevel`` of a warning given here that names the caller's own line: the first frame
    outside this module (``uninstall()``, ``release()`` and ``with`` blocks reach it by different
    paths)."""
    level = 1  # (the function that warns)
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        level += 1
        frame = frame.f_back
    return level


def active_installation() -> Installation | None:
    """The active installation, or None if noobwire is not installed into noob."""
    return _active


def install_from_environment(module: ModuleType) -> Installation:
    """Install into ``module`` as ``NOOBWIRE_JSON_FALLBACK`` and ``NOOBWIRE_ZERO_COPY`` say (the start-up
    hook calls this while ``module`` is being imported; it hooks noob's runner when that is imported)."""
    global _importing
    _importing = True
    try:
        return install(
            json_fallback=env_flag(ENV_JSON_FALLBACK, default=True),
            module=module,
            zero_copy=env_flag(ENV_ZERO_COPY, default=True),
        )
    finally:
        _importing = False


# --- the patched methods -------------------------------------------------------------------------


def _to_bytes(installation: Installation) -> Callable[[Any], bytes]:
    encode = installation.codec.backend.encode
    generation = installation.generation
    options = installation.options

    def to_bytes(self: Any) -> bytes:
        """Encode this message as one noobwire MessagePack frame (patched in by noobwire)."""
        return encode(self, generation, options)

    return to_bytes


def _from_bytes(installation: Installation) -> Callable[[type, Any], Any]:
    decode = installation.codec.backend.decode
    generation = installation.generation
    options = installation.options

    def from_bytes(cls: type, msg: Any) -> Any:
        """Decode the last frame of ``msg`` into noob's own message class (patched in by noobwire).

        A noobwire MessagePack frame is decoded by noobwire; a legacy JSON frame as noob reads it, under
        noobwire's pickle policy (``NOOBWIRE_ALLOW_PICKLE``), unless noobwire was installed with
        ``json_fallback=False``, which refuses it.
        """
        return decode(msg, generation, options)

    return from_bytes


# --- pickle off through noob's own classes ------------------------------------------------------------


class _PickleThatRefusesToLoad:
    """What a noob module sees as ``pickle`` while noobwire is installed with pickle off: the real one,
    whose unpickling functions refuse (``ValueError``, which noob's validator turns into its
    ``ValidationError``) instead of running what a str carries."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    @staticmethod
    def loads(*args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"a pickled value, not unpickled: noobwire is installed and {PICKLE_OFF}")

    load = Unpickler = loads


def _guard(generation: Generation) -> list[tuple[Any, str, Any]]:
    """Make noob's classes safe with pickle off (see :func:`install`): what the generation says
    unpickles gets a ``pickle`` that refuses to, and the computed fields that import what a value names
    leave ``repr()``. Returns what was changed, to undo."""
    changed: list[tuple[Any, str, Any]] = []
    if generation.pickle_module is not None:
        module = resolve_module(generation.bound_module, generation.pickle_module)
        real = vars(module).get("pickle")
        if isinstance(real, ModuleType):
            changed.append((module, "pickle", real))
            setattr(module, "pickle", _PickleThatRefusesToLoad(real))  # noqa: B010 (a module of noob)
    for name in generation.importing_fields:
        owner_name, _, field_name = name.rpartition(".")
        fields = resolve(generation.bound_module, owner_name).__pydantic_computed_fields__
        info = fields[field_name]
        if info.repr:
            changed.append((info, "repr", True))
            info.repr = False
    return changed


# --- helpers ---------------------------------------------------------------------------------------


def _set_environment(
    module_name: str, json_fallback: bool, zero_copy: bool, allow_pickle: bool | None
) -> dict[str, str | None]:
    """Set the variables the start-up hook reads; return what they held before."""
    wanted = {
        ENV_INSTALL: "1" if module_name == DEFAULT_MODULE else module_name,
        ENV_JSON_FALLBACK: "1" if json_fallback else "0",
        ENV_ZERO_COPY: "1" if zero_copy else "0",
    }
    if allow_pickle is not None:
        wanted[ENV_ALLOW_PICKLE] = "1" if allow_pickle else "0"
    previous = {variable: os.environ.get(variable) for variable in wanted}
    os.environ.update(wanted)
    return previous


def _import(name: str) -> ModuleType:
    """Import the message module; a package without it is an incompatible noob, no package an ImportError."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        top = name.partition(".")[0]
        if exc.name is None or exc.name == top or not name.startswith(exc.name):
            raise ImportError(f"noobwire cannot be installed into {name}: {exc}") from exc
        raise IncompatibleNoobError(name, [f"there is no module {exc.name}"]) from exc


def _forkserver_pid() -> int | None:
    """The pid of this process's multiprocessing forkserver, if one is running (without importing it)."""
    forkserver = sys.modules.get("multiprocessing.forkserver")
    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    return pid if isinstance(pid, int) else None


def _distribution_version(module_name: str) -> str | None:
    """The installed version of the distribution a module's top-level package comes from, if known."""
    from importlib import metadata

    top = module_name.partition(".")[0]
    try:
        return metadata.version(top)
    except Exception:  # not installed as a distribution (a source checkout): no version to name
        return None
