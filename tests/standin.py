"""A stand-in for noob's message module, for testing ``noobwire.noob.install()`` without noob.

The stand-in is noobwire's mirror (``noobwire/messages.py``) copied into a package of another name, so its
classes are new class objects (``isinstance`` against them is a real test), with ``Message.to_bytes()`` /
``from_bytes()`` replaced by the reference's JSON codec, as noob has them. It is written to disk, so that
processes started by spawn or forkserver can import it by name.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import noobwire.messages

MIRROR_SOURCE = Path(noobwire.messages.__file__).read_text(encoding="utf-8")

REFERENCE_CODEC = """

# --- the reference's codec, as noob's Message has it (appended by noobwire's test stand-in) ------------


def _reference_to_bytes(self):
    return self.model_dump_json().encode("utf-8")


def _reference_from_bytes(cls, msg):
    return MessageAdapter.validate_json(msg[-1].decode("utf-8"))


Message.to_bytes = _reference_to_bytes
Message.from_bytes = classmethod(_reference_from_bytes)
"""

STANDIN_PACKAGE = "noobstandin"
STANDIN_MODULE = f"{STANDIN_PACKAGE}.network.message"


def standin_source(replacements: dict[str, str] | None = None) -> str:
    """The stand-in's source, with each ``old: new`` text replaced (each must occur in the mirror)."""
    source = MIRROR_SOURCE
    for old, new in (replacements or {}).items():
        assert old in source, f"the mirror no longer contains {old!r}"
        source = source.replace(old, new)
    return source + REFERENCE_CODEC


def write_standin_package(root: Path, package: str = STANDIN_PACKAGE, source: str | None = None) -> Path:
    """Write ``package/network/message.py`` under ``root``; return ``root`` (to put on ``sys.path``)."""
    network = root / package / "network"
    network.mkdir(parents=True, exist_ok=True)
    (root / package / "__init__.py").write_text("")
    (network / "__init__.py").write_text("")
    (network / "message.py").write_text(source if source is not None else standin_source(), encoding="utf-8")
    return root


def import_standin(root: Path, package: str = STANDIN_PACKAGE) -> ModuleType:
    """Import the stand-in written under ``root`` (which goes on ``sys.path``) and return its module."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"{package}.network.message")


def load_variant(name: str, replacements: dict[str, str]) -> ModuleType:
    """A stand-in module built in memory from the mirror with ``replacements`` applied, registered in
    ``sys.modules`` as ``name`` (pydantic resolves the annotations through it)."""
    module = ModuleType(name)
    sys.modules[name] = module
    exec(compile(standin_source(replacements), f"<{name}>", "exec"), module.__dict__)
    return module
