"""Control messages validated by their classes, after a check that costs what a decode may.

noob's message classes carry validators of their own (a before-validator that treats a str as a tube's
id and reads its YAML file, one that unpickles a str beginning with ``pck__``), and pydantic runs them
on whatever it is handed. It also reports *every* problem it finds, each with the whole path to it: a
frame of many bad items under one long key makes an error whose size is their product. So before a
class validates a value that noobwire cannot check against a layout of its own (a model carried as its
JSON, a legacy JSON frame with pickle off), a *checking validator* reads it: the class's own pydantic
core schema, its validators kept, with four changes.

- A validator that is handed the value before the schema it wraps (a before or wrap validator) is
  handed it only if it is of the kind that schema declares: an object where a model, typed dict or
  dict is declared, an array where a list, tuple or set is, neither where a scalar is. So a str never
  reaches a validator that would take it for a tube's id: it is refused as not an object.
- Every list, tuple, set, frozenset, dict and generator stops at its first bad item (pydantic's
  ``fail_fast``), so a refusal names a bounded number of problems, whatever the frame's size.
- A model or typed dict that forbids keys other than its fields stops at the first such key (pydantic
  would report every one, each with its whole path).
- A model or dataclass is built as a stand-in (its ``__init__`` and ``model_post_init`` are not called:
  pydantic would otherwise reuse the class's own validator for it, containers and all); computed
  fields and serializers are left out.

Only a value that passes the check is validated by the class itself; what is refused, is refused with
the check's (bounded) problems.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError, SchemaValidator

from noobwire.errors import SchemaError, describe, validation_summary

__all__ = ["JsonText", "checking_validator", "validate_control_message"]

_FAIL_FAST = frozenset(("list", "tuple", "set", "frozenset", "dict", "generator", "deque"))
"""Core schema types with pydantic's ``fail_fast`` (stop at the first bad item)."""
_HANDED_FIRST = frozenset(("function-before", "function-wrap"))
_WRAPPING = frozenset(("default", "custom-error", "function-after", "definitions", *_HANDED_FIRST))
"""Schemas that read their input as the schema they wrap does (for what kind of value it is)."""
"""Validators handed the value before the schema they wrap."""
_LEFT_OUT = frozenset(("serialization", "computed_fields", "post_init", "custom_init"))
"""Keys of a core schema that only serializing or building the class itself needs."""

OBJECT, ARRAY, OTHER = "object", "array", "neither an object nor an array"
ANY_KIND = frozenset((OBJECT, ARRAY, OTHER))
_OBJECTS = frozenset(("model", "model-fields", "typed-dict", "dict", "dataclass", "dataclass-args"))
_ARRAYS = frozenset(("list", "tuple", "set", "frozenset", "generator", "deque"))


class _StandIn:
    """What a model or dataclass of the checking validator builds: the fields, none of the class."""


def _kinds(schema: Any, refs: dict[str, Any], seen: frozenset[str] = frozenset()) -> frozenset[str]:
    """The kinds of JSON value (object, array, other) a core schema accepts as its input."""
    kind = schema.get("type")
    if kind in _OBJECTS:
        return frozenset((OBJECT,))
    if kind in _ARRAYS:
        return frozenset((ARRAY,))
    if kind in (
        "default",
        "custom-error",
        "function-after",
        "definitions",
        "function-before",
        "function-wrap",
    ):
        return _kinds(schema["schema"], refs, seen)
    if kind == "nullable":
        return _kinds(schema["schema"], refs, seen) | {OTHER}
    if kind in ("union", "tagged-union"):
        choices = schema["choices"]
        found: frozenset[str] = frozenset()
        for choice in choices.values() if isinstance(choices, dict) else choices:
            found |= _kinds(choice[0] if isinstance(choice, tuple) else choice, refs, seen)
        return found
    if kind == "chain":
        return _kinds(schema["steps"][0], refs, seen)
    if kind == "lax-or-strict":
        return _kinds(schema["lax_schema"], refs, seen) | _kinds(schema["strict_schema"], refs, seen)
    if kind == "json-or-python":
        return _kinds(schema["json_schema"], refs, seen)
    if kind == "definition-ref":
        ref = schema["schema_ref"]
        return ANY_KIND if ref in seen or ref not in refs else _kinds(refs[ref], refs, seen | {ref})
    if kind in ("any", "function-plain"):
        return ANY_KIND
    return frozenset((OTHER,))


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return OBJECT
    if isinstance(value, list | tuple):
        return ARRAY
    return OTHER


def _guarded(function: Callable[..., Any], kinds: frozenset[str]) -> Callable[..., Any]:
    """``function``, called only with a value of one of ``kinds``; any other is refused unread."""
    expected = " or ".join(sorted("an " + kind if kind in (OBJECT, ARRAY) else kind for kind in kinds))

    def guarded(value: Any, *rest: Any) -> Any:
        if _kind_of(value) not in kinds:
            raise PydanticCustomError("noobwire_shape", "Input should be {expected}", {"expected": expected})
        return function(value, *rest)

    return guarded


def _checking(schema: Any, refs: dict[str, Any]) -> Any:
    """The checking schema of a core schema (see the module's docstring): a new one, the given one
    unchanged."""
    if isinstance(schema, list):
        return [_checking(item, refs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if not isinstance(kind, str):  # not a schema: a field's dict, or a table of choices
        return {key: _checking(value, refs) for key, value in schema.items()}
    checking = {
        key: value if key == "metadata" else _checking(value, refs)
        for key, value in schema.items()
        if key not in _LEFT_OUT
    }
    if kind in _HANDED_FIRST:
        kinds = _kinds(schema["schema"], refs)
        if kinds != ANY_KIND:
            function = dict(schema["function"])
            function["function"] = _guarded(function["function"], kinds)
            checking["function"] = function
    elif kind in _FAIL_FAST:
        checking["fail_fast"] = True
    elif kind in ("model", "dataclass"):
        checking["cls"] = _StandIn  # (else pydantic reuses the class's own validator, not failing fast)
        checking.pop("generic_origin", None)
        if kind == "model" and schema.get("config", {}).get("extra_fields_behavior") == "forbid":
            checking["schema"] = _known_keys_first(checking["schema"])
    elif kind == "typed-dict":
        checking.pop("cls", None)
        if schema.get("extra_behavior") == "forbid":
            checking = _keys_guard(checking)
    return checking


def _known_keys_first(schema: Any) -> Any:
    """A model's inner schema whose fields (``model-fields``, under the validators that wrap it) refuse
    an unknown key at once: pydantic reports every unknown key of a model that forbids them, each with
    the whole path to it, and model fields do not fail fast."""
    if schema.get("type") == "model-fields":
        return _keys_guard(schema)
    if schema.get("type") in _WRAPPING and isinstance(schema.get("schema"), dict):
        return {**schema, "schema": _known_keys_first(schema["schema"])}
    return schema


def _keys_guard(fields_schema: Any) -> Any:
    """``fields_schema`` (model fields or a typed dict that forbid other keys), handed only a dict whose
    keys are all its fields' names or aliases: the first other key is its one problem."""
    known = set()
    for name, field in fields_schema["fields"].items():
        known.add(name)
        alias = field.get("validation_alias")
        for choice in [alias] if isinstance(alias, str) else alias or []:
            first = choice if isinstance(choice, str) else choice[0] if choice else None
            if isinstance(first, str):
                known.add(first)
    known_keys = frozenset(known)

    def known_keys_only(value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                if key not in known_keys:
                    raise PydanticCustomError(
                        "extra_forbidden", "Extra inputs are not permitted: {key}", {"key": describe(key)}
                    )
        return value

    return {
        "type": "function-before",
        "function": {"type": "no-info", "function": known_keys_only},
        "schema": fields_schema,
    }


def _references(schema: Any, found: dict[str, Any]) -> dict[str, Any]:
    """Every schema of the tree that has a ``ref``, by it (what a ``definition-ref`` points to)."""
    if isinstance(schema, list):
        for item in schema:
            _references(item, found)
    elif isinstance(schema, dict):
        if isinstance(schema.get("type"), str) and isinstance(schema.get("ref"), str):
            found[schema["ref"]] = schema
        for key, value in schema.items():
            if key != "metadata":
                _references(value, found)
    return found


_lock = threading.Lock()
_validators: dict[int, tuple[Any, SchemaValidator]] = {}


def checking_validator(owner: Any) -> SchemaValidator:
    """The checking validator of a pydantic model class or ``TypeAdapter`` (see the module's
    docstring), made once per owner. Its ``validate_python`` / ``validate_json`` raise pydantic's
    ``ValidationError``, naming a bounded number of problems, for a value the owner would refuse or
    would have to convert from another kind of value first."""
    key = id(owner)
    known = _validators.get(key)
    if known is not None and known[0] is owner:
        return known[1]
    schema = getattr(owner, "__pydantic_core_schema__", None) or owner.core_schema
    validator = SchemaValidator(_checking(schema, _references(schema, {})))
    with _lock:
        _validators[key] = (owner, validator)  # the owner is kept, so its id stays its own
    return validator


@lru_cache(maxsize=64)
def _model_adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


class JsonText(str):
    """The JSON text of a model, validated by its message class in :func:`validate_control_message`."""


def validate_control_message(cls: type[Any], type_name: str, node_id: Any, timestamp: Any, value: Any) -> Any:
    """Validate a decoded control message with its class (the slow path). A model carried as JSON text
    is first checked against its declared shape (:mod:`noobwire._core.validation`), so that none of its
    class's validators sees a value of another shape. A refusal's message names the first few
    problems, cut short; pydantic's whole report is its cause."""
    try:
        if type(value) is JsonText:
            adapter = _model_adapter(cls.model_fields["value"].annotation)
            checking_validator(adapter).validate_json(value)
            value = adapter.validate_json(value)
        data = {"type": type_name, "node_id": node_id, "timestamp": timestamp, "value": value}
        return cls.__pydantic_validator__.validate_python(data)
    except ValidationError as exc:
        raise SchemaError(f"{type_name} message breaks the schema: {validation_summary(exc)}") from exc
    except RecursionError:  # the caller's stack ran out, not the frame's fault: no verdict
        raise
    except Exception as exc:  # a validator that failed on a hostile value (repr of a deep list, ...)
        raise SchemaError(
            f"{type_name} message breaks the schema ({type(exc).__name__} while validating it)"
        ) from exc
