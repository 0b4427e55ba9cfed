"""The start-up hook that carries ``noobwire.noob.install()`` into new Python processes.

``noobwire_install.pth`` (installed next to this module) imports it at interpreter start-up only when
``NOOBWIRE_INSTALL`` is set, so every other interpreter pays nothing. ``install()`` sets that variable, and
the processes a noob runner starts by spawn or forkserver inherit it: in them, this hook waits for the noob
message module to be imported and patches it right after it has run. Setting ``NOOBWIRE_INSTALL=1`` by hand
does the same for every Python process started with it.

``NOOBWIRE_INSTALL``: unset, empty, ``0``, ``false``, ``no`` or ``off``: do nothing; ``1``, ``true``, ``yes``
or ``on``: patch ``noob.network.message``; any other dotted name: patch the module of that name.

This module runs at start-up: it imports nothing beyond what the interpreter has already loaded but the
words of noobwire's environment (``_noobwire_environment``, a few lines), and noobwire itself only once the
noob message module is imported.
"""

import os
import sys

from _noobwire_environment import ENV_INSTALL, OFF_WORDS, target_module

TYPE_CHECKING = False  # typing (and __future__) cost milliseconds to import, at every start-up
if TYPE_CHECKING:
    from typing import Any

__all__ = ["activate"]

RUNNER_NODE_MODULE = ".runner.zmq.node"
"""Where, under noob's package, its ZeroMQ runner's node runner is (the last of the runner's modules to
be imported)."""


def activate() -> None:
    """Patch the target module when it is imported (or now, if it already is). Called by the ``.pth``."""
    name = target_module()
    if name is None:
        value = os.environ.get(ENV_INSTALL, "").strip()
        if value.lower() not in OFF_WORDS:
            sys.stderr.write(f"noobwire: ignoring {ENV_INSTALL}={value!r}: neither 1 nor a module name\n")
        return
    _when_imported(name, _install)
    # noob's ZeroMQ runner is hooked once it is imported (noob's runner imports its message module, so
    # at the message module's import the runner is only half there).
    _when_imported(name.partition(".")[0] + RUNNER_NODE_MODULE, _hook_runner)


def _when_imported(name: str, then: "Any") -> None:
    """Call ``then(module)`` once the module ``name`` has run (now, if it has)."""
    if name in sys.modules:
        then(sys.modules[name])
        return
    if not any(isinstance(finder, _PatchOnImport) and finder.name == name for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport(name, then))


def _install(module: "Any") -> None:
    """Install noobwire into ``module``; a noob it cannot be installed into is left as it is, with one
    warning: the start-up hook never breaks the import of noob."""
    if target_module() != module.__name__:  # no longer asked to
        return
    try:
        from noobwire.noob import install_from_environment

        install_from_environment(module)
    except Exception as exc:
        import warnings

        warnings.warn(
            f"noobwire was not installed into {module.__name__} ({ENV_INSTALL} is set), which is left as "
            f"it is: {exc}",
            RuntimeWarning,
            stacklevel=2,
        )


def _hook_runner(module: "Any") -> None:
    """Hook noob's ZeroMQ runner for the installation the start-up hook made (if it made one)."""
    noobwire_noob = sys.modules.get("noobwire.noob")
    if noobwire_noob is None:
        return
    try:
        noobwire_noob.hook_runner()
    except Exception as exc:
        import warnings

        warnings.warn(
            f"noobwire did not hook noob's runner ({type(exc).__name__}: {exc}); it sends single frames",
            RuntimeWarning,
            stacklevel=2,
        )


class _PatchOnImport:
    """A meta path finder that lets the other finders find one module, and calls ``then(module)`` once
    the module has run."""

    def __init__(self, name: str, then: "Any") -> None:
        self.name = name
        self.then = then

    def find_spec(self, fullname: str, path: "Any", target: "Any" = None) -> "Any":
        if fullname != self.name:
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _PatchingLoader(spec.loader, self.then)
        return spec


class _PatchingLoader:
    """Runs the module with its own loader, then calls ``then(module)``."""

    def __init__(self, loader: "Any", then: "Any") -> None:
        self._loader = loader
        self._then = then

    def create_module(self, spec: "Any") -> "Any":
        return self._loader.create_module(spec)

    def exec_module(self, module: "Any") -> None:
        self._loader.exec_module(module)
        self._then(module)

    def __getattr__(self, name: str) -> "Any":  # get_source, get_filename, ... of the real loader
        return getattr(self._loader, name)
