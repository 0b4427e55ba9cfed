"""Which generation of the schema a noob message module has, and if none, how it differs.

``noobwire.noob.install()`` patches noob's ``Message.to_bytes()`` / ``from_bytes()`` only for a module
whose schema is exactly one of the generations noobwire knows (:mod:`noobwire.generations`): a noob
whose schema has moved on (new message types, new fields, other value types) would otherwise be written
in a layout its peers read as something else.

A module's *schema facts* are what the wire depends on: the members of ``MessageType`` (whose order
gives the type codes) and ``NodeStatus``; the keys of the value TypedDicts; each message class's JSON
schema (docstrings left out: they change no byte on the wire; and where a value travels as its own
class's JSON, as the tube specification of a ``spec`` message does, only the class's name) and its
``model_config``. A generation's expected facts are those of noobwire's mirror for the reference, and
for noob's generations a snapshot taken from the published package (``noobwire/noob/snapshots``, written
by ``python -m noobwire.noob.compat --snapshot``). The module must also form one hierarchy under
``Message``, whose ``to_bytes`` / ``from_bytes`` no subclass overrides, and define no message class the
generation lacks.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from enum import Enum
from importlib import resources
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from noobwire.generations import GENERATIONS, REFERENCE
from noobwire.layout import Generation, Kind

__all__ = ["Recognition", "expected_facts", "recognize", "schema_differences", "schema_facts"]

VALUE_TYPEDDICTS: tuple[str, ...] = ("IdentifyValue", "AnnounceValue", "ErrorValue", "ProcessValue")
"""The TypedDicts of message values every generation names (``Event`` is checked through ``EventMsg``)."""

_ENUMS = ("MessageType", "NodeStatus")
_META_SIGNAL = "MetaSignal"  # (the generation says where it is)
_MAX_PATHS = 3  # schema paths named per differing class: enough to see what moved, short enough to read


def _class_names(generation: Generation) -> tuple[str, ...]:
    return ("Message", *(layout.cls for layout in generation.messages))


# --- facts ---------------------------------------------------------------------------------------------


def schema_facts(module: ModuleType, generation: Generation) -> dict[str, Any]:
    """The wire-relevant facts of ``module``'s schema, read the way ``generation`` lays messages out,
    as JSON-able data. A class or enum the module lacks is left out (the comparison says so)."""
    facts: dict[str, Any] = {"enums": {}, "typeddicts": {}, "models": {}, "configs": {}}
    for name in _ENUMS:
        enum = getattr(module, name, None)
        if isinstance(enum, type) and issubclass(enum, Enum):
            facts["enums"][name] = [[member.name, member.value] for member in enum]
    if generation.meta_signal is not None:
        try:
            enum = generation.bind(module).meta_signal_enum
        except (AttributeError, ImportError):
            enum = None
        if isinstance(enum, type) and issubclass(enum, Enum):
            facts["enums"][_META_SIGNAL] = [[member.name, member.value] for member in enum]
    for name in VALUE_TYPEDDICTS:
        typeddict = getattr(module, name, None)
        if isinstance(typeddict, type):
            facts["typeddicts"][name] = {
                "keys": list(getattr(typeddict, "__annotations__", {})),
                "required": sorted(getattr(typeddict, "__required_keys__", ())),
            }
    opaque = {layout.cls for layout in generation.messages if layout.value is Kind.MODEL_JSON}
    for name in _class_names(generation):
        cls = getattr(module, name, None)
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            continue
        try:
            schema = _without_descriptions(cls.model_json_schema())
        except Exception as exc:  # a schema pydantic cannot print differs from one it can
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            schema = {"unprintable": reason}
        if name in opaque:
            schema = _opaque_value(schema, cls)
        facts["models"][name] = schema
        facts["configs"][name] = {key: repr(value) for key, value in sorted(cls.model_config.items())}
    return facts


def _opaque_value(schema: dict[str, Any], cls: type[BaseModel]) -> dict[str, Any]:
    """A message schema whose value travels as its own class's JSON: the value's class by name only."""
    annotation = cls.model_fields["value"].annotation
    schema = {key: value for key, value in schema.items() if key != "$defs"}
    properties = dict(schema.get("properties", {}))
    properties["value"] = {"class": getattr(annotation, "__name__", repr(annotation))}
    schema["properties"] = properties
    return schema


def _without_descriptions(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: _without_descriptions(value) for key, value in schema.items() if key != "description"}
    if isinstance(schema, list):
        return [_without_descriptions(item) for item in schema]
    return schema


@functools.cache
def expected_facts(generation: Generation) -> dict[str, Any]:
    """The facts a module of ``generation`` has: the mirror's for the reference, else the snapshot of the
    published package."""
    if generation.snapshot is None:
        return schema_facts(REFERENCE.bound_module, generation)
    text = resources.files("noobwire.noob").joinpath("snapshots", generation.snapshot).read_text("utf-8")
    facts: dict[str, Any] = json.loads(text)
    return facts


# --- differences ---------------------------------------------------------------------------------------


def schema_differences(module: ModuleType, generation: Generation = REFERENCE) -> list[str]:
    """How ``module``'s message schema differs from ``generation``'s, one line each; empty if it has it."""
    names = _class_names(generation)
    found: list[str] = []
    missing = [
        name
        for name in (*_ENUMS, *names, *VALUE_TYPEDDICTS)
        if not isinstance(getattr(module, name, None), type)
    ]
    if missing:
        found.append(f"it lacks {', '.join(missing)}")
    theirs = schema_facts(module, generation)
    ours = expected_facts(generation)
    for name in _ENUMS:
        if name in theirs["enums"]:
            found.extend(_enum_differences(name, theirs["enums"][name], ours["enums"][name]))
        elif name not in missing:
            found.append(f"{name} is not an enum")
    if _META_SIGNAL in ours["enums"]:
        if _META_SIGNAL not in theirs["enums"]:
            found.append(f"it has no enum of meta signals ({generation.meta_signal})")
        else:
            found.extend(
                _enum_differences(_META_SIGNAL, theirs["enums"][_META_SIGNAL], ours["enums"][_META_SIGNAL])
            )
    for name, typeddict in theirs["typeddicts"].items():
        found.extend(_typeddict_differences(name, typeddict, ours["typeddicts"][name]))
    if "Message" not in missing:
        found.extend(_hierarchy_differences(module, names))
    for name in names:
        if name in missing:
            continue
        if name not in theirs["models"]:
            found.append(f"{name} is not a pydantic model")
            continue
        found.extend(_model_differences(name, theirs, ours))
    return found


def _enum_differences(name: str, theirs: list[list[Any]], ours: list[list[Any]]) -> list[str]:
    if theirs == ours:
        return []
    extra = [n for n, v in theirs if [n, v] not in ours]
    lacking = [n for n, v in ours if [n, v] not in theirs]
    parts = []
    if extra:
        parts.append(f"members this schema does not have: {', '.join(extra)}")
    if lacking:
        parts.append(f"lacks members: {', '.join(lacking)}")
    if not parts:
        parts.append("its members are in another order (the order gives the wire format's type codes)")
    return [f"{name}: {'; '.join(parts)}"]


def _typeddict_differences(name: str, theirs: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    extra = [key for key in theirs["keys"] if key not in ours["keys"]]
    lacking = [key for key in ours["keys"] if key not in theirs["keys"]]
    found = []
    if extra:
        found.append(f"{name} has fields this schema does not: {', '.join(extra)}")
    if lacking:
        found.append(f"{name} lacks fields: {', '.join(lacking)}")
    if not extra and not lacking and theirs["required"] != ours["required"]:
        found.append(f"{name}: other fields are required")
    return found


def _hierarchy_differences(module: ModuleType, names: tuple[str, ...]) -> list[str]:
    base = module.Message
    if not (isinstance(base, type) and issubclass(base, BaseModel)):
        return ["Message is not a pydantic model"]
    found = [
        f"Message has no {method}()"
        for method in ("to_bytes", "from_bytes")
        if not callable(getattr(base, method, None))
    ]
    for name in names[1:]:
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
    known = {getattr(module, name, None) for name in names}
    extra = sorted(
        name
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, base) and obj not in known
    )
    if extra:
        found.append(f"message classes this schema does not have: {', '.join(extra)}")
    return found


def _model_differences(name: str, theirs: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    found = []
    their_schema, our_schema = theirs["models"][name], ours["models"].get(name)
    if "unprintable" in their_schema:
        found.append(f"{name}: pydantic cannot print its JSON schema ({their_schema['unprintable']})")
    else:
        paths = list(dict.fromkeys(map(_field_path, _differing_paths(their_schema, our_schema))))
        if paths:
            shown = ", ".join(paths[:_MAX_PATHS]) + (", ..." if len(paths) > _MAX_PATHS else "")
            found.append(f"{name}: its JSON schema differs at {shown}")
    their_config, our_config = theirs["configs"][name], ours["configs"].get(name, {})
    if their_config != our_config:
        keys = sorted(
            key
            for key in their_config.keys() | our_config.keys()
            if their_config.get(key) != our_config.get(key)
        )
        found.append(f"{name}: its model_config differs in {', '.join(keys)}")
    return found


def _differing_paths(theirs: Any, ours: Any, path: str = "") -> list[str]:
    """The paths (``properties.value.$ref``) where two JSON schemas differ, in the expected one's order."""
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


# --- recognition ---------------------------------------------------------------------------------------


class Recognition:
    """What :func:`recognize` found: the generation a module has (or None), and how the module differs
    from each generation noobwire knows."""

    def __init__(self, generation: Generation | None, differences: dict[Generation, list[str]]) -> None:
        self.generation = generation
        self.differences = differences

    @property
    def closest(self) -> Generation:
        """The generation the module differs from least (the one to name when it has none)."""
        return min(self.differences, key=lambda generation: len(self.differences[generation]))


def recognize(module: ModuleType) -> Recognition:
    """Which generation of the schema ``module`` (a noob message module) has, if any."""
    differences: dict[Generation, list[str]] = {}
    for generation in GENERATIONS:
        try:
            found = schema_differences(module, generation)
        except Exception as exc:  # a module too far from this generation to be read as one
            found = [f"cannot be read as {generation.summary} ({type(exc).__name__}: {exc})"]
        if not found:
            return Recognition(generation, {generation: []})
        differences[generation] = found
    return Recognition(None, differences)


# --- snapshots -----------------------------------------------------------------------------------------


def _snapshot(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m noobwire.noob.compat",
        description="Print the schema facts of the installed noob's message module as a generation reads "
        "them: the snapshot that noobwire/noob/snapshots holds for that generation.",
    )
    parser.add_argument(
        "--snapshot", required=True, metavar="VERSION", type=int, help="the wire-format version"
    )
    parser.add_argument("--module", default="noob.network.message")
    args = parser.parse_args(argv)
    generation = next((g for g in GENERATIONS if g.version == args.snapshot), None)
    if generation is None:
        parser.error(f"no generation has wire-format version {args.snapshot}")
    import importlib

    facts = schema_facts(importlib.import_module(args.module), generation)
    json.dump(facts, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(_snapshot())
