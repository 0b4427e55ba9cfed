"""The declared shape of a foreign pydantic class, checked before any of the class's own code runs.

noob's message classes carry validators of their own (a before-validator that treats a str as a tube's
id and reads its YAML file, one that unpickles a str beginning with ``pck__``), and pydantic runs them
on whatever it is handed. It also reports *every* problem it finds, each with the whole path to it: a
frame of many bad items under one long key makes an error whose size is their product. So noobwire
first checks what a frame holds with a *shape validator*: the class's own pydantic core schema with
its code taken out and its containers made to stop at their first bad item.

- A before, after or wrap validator leaves the schema it wraps; a plain validator, whose input could be
  anything, accepts anything; a chain keeps its first step (what the input is checked against).
- A model or dataclass is built as an empty stand-in class (its ``__init__``, ``model_post_init`` and
  validators are not called), a typed dict as a plain dict; a missing field's default is neither made
  (default factories are not called) nor validated; an enum's ``_missing_`` hook is not consulted;
  computed fields and serializers are left out.
- Every list, tuple, set, frozenset, dict and generator stops at its first bad item (pydantic's
  ``fail_fast``), so a refusal names a bounded number of problems, whatever the frame's size.

The check reads the input as the class would (pydantic's lax mode, JSON or Python), so a value of the
declared shape passes it unchanged; only then does the class itself validate it. A value the class
would have converted from another shape by a validator of its own (a str into a tube specification)
is refused: that conversion is what a peer must not be able to reach.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import SchemaValidator

from noobwire.errors import SchemaError, validation_summary

__all__ = ["JsonText", "shape_validator", "validate_control_message"]

_FAIL_FAST = frozenset(("list", "tuple", "set", "frozenset", "dict", "generator", "deque"))
"""Core schema types with pydantic's ``fail_fast`` (stop at the first bad item)."""
_WRAPPING = frozenset(("function-before", "function-after", "function-wrap"))
"""Validators that wrap a schema: the shape is the wrapped schema."""
_CODE_KEYS = frozenset(("serialization", "computed_fields", "post_init", "missing", "custom_init"))
"""Keys of a core schema that hold code, or say that code runs, beyond what validating the shape needs."""


class _StandIn:
    """What a model or dataclass of the shape validator builds: nothing of the class itself runs."""


def _shape(schema: Any) -> Any:
    """The shape of a core schema (see the module's docstring): a new schema, the given one unchanged."""
    if isinstance(schema, list):
        return [_shape(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if not isinstance(kind, str):  # not a schema: a field's dict, or a table of choices
        return {key: _shape(value) for key, value in schema.items()}
    if kind in _WRAPPING:
        return _shape(schema["schema"])
    if kind == "function-plain":
        return {"type": "any"}
    if kind == "chain":
        return _shape(schema["steps"][0])
    shaped = {
        key: value if key == "metadata" else _shape(value)
        for key, value in schema.items()
        if key not in _CODE_KEYS
    }
    if kind in _FAIL_FAST:
        shaped["fail_fast"] = True
    elif kind in ("model", "dataclass"):
        shaped["cls"] = _StandIn  # (the class's own validator would otherwise be reused, with its code)
        shaped.pop("generic_origin", None)
    elif kind == "typed-dict":
        shaped.pop("cls", None)
    elif kind == "default":
        shaped["validate_default"] = False  # (a missing field is the class's to fill, not a shape)
        if "default_factory" in shaped:
            del shaped["default_factory"]
            shaped.pop("default_factory_takes_data", None)
            shaped["default"] = None
    return shaped


_lock = threading.Lock()
_validators: dict[int, tuple[Any, SchemaValidator]] = {}


def shape_validator(owner: Any) -> SchemaValidator:
    """The shape validator of a pydantic model class or ``TypeAdapter`` (its core schema's shape), made
    once per owner. Its ``validate_python`` / ``validate_json`` raise pydantic's ``ValidationError``
    for a value not of the declared shape, having run none of the owner's code."""
    key = id(owner)
    known = _validators.get(key)
    if known is not None and known[0] is owner:
        return known[1]
    schema = getattr(owner, "__pydantic_core_schema__", None) or owner.core_schema
    validator = SchemaValidator(_shape(schema))
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
            shape_validator(adapter).validate_json(value)
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
