"""Whether a noob message module has the schema noobwire mirrors, and if not, how it differs.

``noobwire.noob.install()`` patches noob's ``Message.to_bytes()`` / ``from_bytes()`` only when this check
finds nothing: a noob whose schema has moved on (new message types, new fields, other value types) would
otherwise be written in a layout its peers read as something else.

The check compares, against the pydantic mirror: the members of ``MessageType`` and ``NodeStatus``; the
keys of the value TypedDicts; each message class's JSON schema (docstrings left out: they change no byte
on the wire) and its ``model_config``; that the message classes form one hierarchy under ``Message``,
whose ``to_bytes`` / ``from_bytes`` no subclass overrides; that the module defines no message class the
mirror lacks; and, where the module exposes ``MetaSignal``, the value of ``MetaSignal.NoEvent``.
"""

from __future__ import annotations

import functools
import sys
from enum import Enum
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from noobwire import messages
from noobwire.messages import MESSAGE_CLASSES, Message

__all__ = ["MESSAGE_CLASS_NAMES", "VALUE_TYPEDDICTS", "find_meta_signal", "schema_differences"]

MESSAGE_CLASS_NAMES: tuple[str, ...] = ("Message", *(cls.__name__ for cls in MESSAGE_CLASSES.values()))
"""The twelve models of the schema: ``Message`` and one class per message type."""

VALUE_TYPEDDICTS: tuple[str, ...] = ("IdentifyValue", "AnnounceValue", "ErrorValue", "ProcessValue")
"""The TypedDicts of message values that the schema names (``Event`` is checked through ``EventMsg``)."""

_ENUMS = ("MessageType", "NodeStatus")
_MAX_PATHS = 3  # schema paths named per differing class: enough to see what moved, short enough to read


def schema_differences(module: ModuleType) -> list[str]:
    """How ``module``'s message schema differs from the mirror's, one line each; empty if it matches."""
    found: list[str] = []
    missing = [
        name
        for name in (*_ENUMS, *MESSAGE_CLASS_NAMES, *VALUE_TYPEDDICTS)
        if not isinstance(getattr(module, name, None), type)
    ]
    if missing:
        found.append(f"it lacks {', '.join(missing)}")
    for name in _ENUMS:
        if name not in missing:
            found.extend(_enum_differences(name, getattr(module, name), getattr(messages, name)))
    for name in VALUE_TYPEDDICTS:
        if name not in missing:
            found.extend(_typeddict_differences(name, getattr(module, name), getattr(messages, name)))
    if "Message" not in missing:
        found.extend(_hierarchy_differences(module))
    for name in MESSAGE_CLASS_NAMES:
        if name not in missing:
            found.extend(_model_differences(name, getattr(module, name)))
    meta_signal = find_meta_signal(module)
    if meta_signal is not None:
        no_event = getattr(meta_signal, "NoEvent", None)
        if not isinstance(no_event, str) or str.__str__(no_event) != messages.MetaSignal.NoEvent.value:
            reference = messages.MetaSignal.NoEvent.value
            found.append(f"MetaSignal.NoEvent is {no_event!r}, the reference's is {reference!r}")
    return found


def find_meta_signal(module: ModuleType) -> Any:
    """The ``MetaSignal`` enum of the noob that ``module`` belongs to, or None if it shows none.

    noob defines it in ``noob.event`` and its message module imports it; a module that does not import it
    is looked up in its package's ``event`` module, if that is loaded.
    """
    meta_signal = getattr(module, "MetaSignal", None)
    if meta_signal is None:
        event_module = sys.modules.get(module.__name__.partition(".")[0] + ".event")
        meta_signal = getattr(event_module, "MetaSignal", None)
    return meta_signal if isinstance(meta_signal, type) and issubclass(meta_signal, Enum) else None


def _enum_differences(name: str, theirs: type, ours: type[Enum]) -> list[str]:
    if not issubclass(theirs, Enum):
        return [f"{name} is not an enum"]
    their_members = [(member.name, member.value) for member in theirs]
    our_members = [(member.name, member.value) for member in ours]
    if their_members == our_members:
        return []
    extra = [n for n, v in their_members if (n, v) not in our_members]
    lacking = [n for n, v in our_members if (n, v) not in their_members]
    parts = []
    if extra:
        parts.append(f"members the reference does not have: {', '.join(extra)}")
    if lacking:
        parts.append(f"lacks members: {', '.join(lacking)}")
    if not parts:
        parts.append("its members are in another order (the order gives the wire format's type codes)")
    return [f"{name}: {'; '.join(parts)}"]


def _typeddict_differences(name: str, theirs: type, ours: type) -> list[str]:
    their_keys = list(getattr(theirs, "__annotations__", {}))
    our_keys = list(ours.__annotations__)
    found = []
    extra = [key for key in their_keys if key not in our_keys]
    lacking = [key for key in our_keys if key not in their_keys]
    if extra:
        found.append(f"{name} has fields the reference does not: {', '.join(extra)}")
    if lacking:
        found.append(f"{name} lacks fields: {', '.join(lacking)}")
    their_required = getattr(theirs, "__required_keys__", None)
    if not extra and not lacking and their_required != ours.__required_keys__:  # type: ignore[attr-defined]
        found.append(f"{name}: other fields are required")
    return found


def _hierarchy_differences(module: ModuleType) -> list[str]:
    base = module.Message
    if not (isinstance(base, type) and issubclass(base, BaseModel)):
        return ["Message is not a pydantic model"]
    found = [
        f"Message has no {method}()"
        for method in ("to_bytes", "from_bytes")
        if not callable(getattr(base, method, None))
    ]
    for name in MESSAGE_CLASS_NAMES[1:]:
        cls = getattr(module, name, None)
        if not isinstance(cls, type):
            continue
        if not issubclass(cls, base):
            found.append(f"{name} is not a subclass of Message")
            continue
        for klass in cls.__mro__[: cls.__mro__.index(base)]:
            overridden = [method for method in ("to_bytes", "from_bytes") if method in vars(klass)]
            if overridden:
                found.append(f"{klass.__name__} overrides {', '.join(overridden)}")
    known = {getattr(module, name, None) for name in MESSAGE_CLASS_NAMES}
    extra = sorted(
        name
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, base) and obj not in known
    )
    if extra:
        found.append(f"message classes the reference does not have: {', '.join(extra)}")
    return found


def _model_differences(name: str, cls: type) -> list[str]:
    if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
        return [f"{name} is not a pydantic model"]
    found = []
    try:
        theirs = _without_descriptions(cls.model_json_schema())
    except Exception as exc:  # a schema pydantic cannot print differs from one it can
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        found.append(f"{name}: pydantic cannot print its JSON schema ({reason})")
    else:
        paths = list(dict.fromkeys(map(_field_path, _differing_paths(theirs, _mirror_schema(name)))))
        if paths:
            shown = ", ".join(paths[:_MAX_PATHS]) + (", ..." if len(paths) > _MAX_PATHS else "")
            found.append(f"{name}: its JSON schema differs at {shown}")
    their_config = dict(cls.model_config)
    our_config = dict(getattr(messages, name).model_config)
    if their_config != our_config:
        keys = sorted(
            key
            for key in their_config.keys() | our_config.keys()
            if their_config.get(key) != our_config.get(key)
        )
        found.append(f"{name}: its model_config differs in {', '.join(keys)}")
    return found


@functools.cache
def _mirror_schema(name: str) -> dict[str, Any]:
    cls: type[Message] = getattr(messages, name)
    return _without_descriptions(cls.model_json_schema())  # type: ignore[no-any-return]


def _without_descriptions(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: _without_descriptions(value) for key, value in schema.items() if key != "description"}
    if isinstance(schema, list):
        return [_without_descriptions(item) for item in schema]
    return schema


def _differing_paths(theirs: Any, ours: Any, path: str = "") -> list[str]:
    """The paths (``properties.value.$ref``) where two JSON schemas differ, in the mirror's order."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        found = []
        for key in [*ours, *(key for key in theirs if key not in ours)]:
            where = f"{path}.{key}" if path else key
            if key not in theirs or key not in ours:
                found.append(where)
            else:
                found.extend(_differing_paths(theirs[key], ours[key], where))
        return found
    if isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        return [
            found
            for index, (their_item, our_item) in enumerate(zip(theirs, ours, strict=True))
            for found in _differing_paths(their_item, our_item, f"{path}[{index}]")
        ]
    return [] if theirs == ours else [path or "the top level"]


def _field_path(path: str) -> str:
    """A schema path cut to the field it is in: ``properties.value`` or ``$defs.Event.properties.epoch``."""
    parts = path.split(".")
    keep = 4 if parts[0] == "$defs" and len(parts) > 2 and parts[2] == "properties" else 2
    return ".".join(parts[:keep])
