"""A generation's values by their shape, to the wire and back, shared by both backends.

A message's value is turned into its wire form by its shape (:mod:`noobwire.layout`) and back. The hot
(constructed) records are written by each backend's own fast path; when that path meets a value it does
not take (a subclass of a field's type, a missing key), it asks :func:`record_to_wire` here, which
converts what the schema allows and names the path of what it does not. A control message's value is
always converted here, and checked against its shape (:func:`value_from_wire`) before its class
validates it (:mod:`noobwire._core.validation`).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from noobwire._core import scalars
from noobwire._core.epochs import epoch_from_wire, epoch_to_wire
from noobwire._core.scalars import as_str
from noobwire._core.validation import JsonText
from noobwire.errors import EncodeError, SchemaError, describe
from noobwire.layout import Generation, Kind, ListOf, MapOf, Nullable, OneOf, Record, Shape, resolve

__all__ = [
    "construct_message",
    "free_values",
    "record_from_wire",
    "record_to_wire",
    "value_from_wire",
    "value_to_wire",
]

_object_new = object.__new__
_object_setattr = object.__setattr__
_FIELDS = frozenset(("type_", "node_id", "timestamp", "value"))


def construct_message(cls: type[Any], type_name: str, node_id: str, timestamp: datetime, value: Any) -> Any:
    """Build ``cls`` from fields that are already known to fit its schema, without validating.

    The instance is what the class's own ``validate_json`` returns for the same message: ``type_`` a
    plain ``str`` and every field marked as set.
    """
    msg = _object_new(cls)
    _object_setattr(
        msg,
        "__dict__",
        {"type_": type_name, "node_id": node_id, "timestamp": timestamp, "value": value},
    )
    _object_setattr(msg, "__pydantic_fields_set__", set(_FIELDS))
    _object_setattr(msg, "__pydantic_extra__", None)
    _object_setattr(msg, "__pydantic_private__", None)
    return msg


# --- records, written --------------------------------------------------------------------------------


def value_to_wire(generation: Generation, shape: Shape, value: Any, path: str) -> Any:
    """The wire form of ``value`` laid out as ``shape`` (datetimes stay datetimes: the backend writes
    them); :class:`EncodeError` names the path of what does not fit."""
    if isinstance(shape, Kind):
        if shape is Kind.ANY:
            return value
        if shape is Kind.EPOCH:
            return epoch_to_wire(generation, value, path)
        if shape is Kind.OPTIONAL_EPOCH:
            return None if value is None else epoch_to_wire(generation, value, path)
        if shape is Kind.MODEL_JSON:
            return _model_json(value, path)
        return scalars.writer(shape)(value, path)
    if isinstance(shape, Record):
        return record_to_wire(generation, shape, value, path)
    if isinstance(shape, Nullable):
        return None if value is None else value_to_wire(generation, shape.shape, value, path)
    if isinstance(shape, OneOf):
        return as_str(value, path)
    if isinstance(shape, ListOf):
        if not isinstance(value, list | tuple):
            raise EncodeError(f"expected a list, got {type(value).__qualname__}", path)
        return [value_to_wire(generation, shape.item, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if not isinstance(value, dict):
        raise EncodeError(f"expected a dict, got {type(value).__qualname__}", path)
    return {
        as_str(key, path): value_to_wire(generation, shape.value, item, f"{path}[{describe(key)}]")
        for key, item in value.items()
    }


def record_to_wire(generation: Generation, record: Record, value: Any, path: str) -> list[Any]:
    """A record's values in order, each converted as its field says (the checked path)."""
    if not isinstance(value, dict):
        raise EncodeError(f"expected {_dict_name(record)}, got {type(value).__qualname__}", path)
    try:
        fields = [value[item.name] for item in record.fields]
    except KeyError as exc:
        raise EncodeError(f"missing key {describe(exc.args[0])}", path) from None
    except Exception as exc:  # a dict subclass whose __getitem__ fails
        raise EncodeError(f"cannot read {record.what} ({type(exc).__name__}: {exc})", path) from exc
    return [
        value_to_wire(generation, item.shape, field, f"{path}[{item.name!r}]")
        for item, field in zip(record.fields, fields, strict=True)
    ]


def _dict_name(record: Record) -> str:
    return f"{record.what} dict"


def _model_json(value: Any, path: str) -> str:
    """A pydantic model as the JSON text its own class writes (by alias, as noob's messages write),
    without its computed fields: they are not data but what the class computes from it, and computing
    them may run code the data names (noob 1003's ``NodeSpecification.nodeinfo`` imports the module a
    node's ``type`` names, and reads and rewrites the file a tube node's ``params`` name); the class
    drops them on reading anyway."""
    dump = getattr(value, "model_dump_json", None)
    if dump is None:
        raise EncodeError(f"expected a pydantic model, got {type(value).__qualname__}", path)
    try:
        text: str = dump(by_alias=True, exclude_computed_fields=True)
    except Exception as exc:
        raise EncodeError(f"cannot write this {type(value).__qualname__} as JSON ({exc})", path) from exc
    return text


# --- records, read back ------------------------------------------------------------------------------


def record_from_wire(generation: Generation, record: Record, value: Any, what: str) -> dict[str, Any]:
    """The dict of a record read from its wire form, each field checked as its kind says; anything
    else is a :class:`SchemaError` naming the field (``event 3['id']``)."""
    record_dict: dict[str, Any] = value_from_wire(generation, record, value, what)
    return record_dict


_EXACT = {Kind.INT: (int, "an int"), Kind.STR: (str, "a str"), Kind.DATETIME: (datetime, "a timestamp")}


def value_from_wire(generation: Generation, shape: Shape, value: Any, path: str = "value") -> Any:
    """Check a control message's wire value against its shape and turn it into what its class
    validates: records into dicts, arguments into tuples, epochs and models into their objects.

    Every type the shape declares is checked here, before any validator of the class sees the value
    (a class's validators may do more with a value of another type than check it: noob's read files
    for a str where a tube specification belongs); what does not fit is a :class:`SchemaError` naming
    its path, e.g. ``value['nodes']['cam']['signals'][2]``."""
    if isinstance(shape, Kind):
        return _kind_from_wire(generation, shape, value, path)
    if isinstance(shape, Record):
        fields = shape.fields
        if type(value) is not list or len(value) != len(fields):
            raise SchemaError(f"{path} must be an array of {len(fields)} fields {list(shape.keys)}")
        return {
            item.name: value_from_wire(generation, item.shape, wire, f"{path}[{item.name!r}]")
            for item, wire in zip(fields, value, strict=True)
        }
    if isinstance(shape, Nullable):
        return None if value is None else value_from_wire(generation, shape.shape, value, path)
    if isinstance(shape, ListOf):
        if type(value) is not list:
            raise SchemaError(f"{path} must be an array, not {_wire_type(value)}")
        return [value_from_wire(generation, shape.item, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(shape, MapOf):
        if type(value) is not dict:
            raise SchemaError(f"{path} must be a map, not {_wire_type(value)}")
        converted = {}
        for key, item in value.items():
            if type(key) is not str:
                raise SchemaError(f"{path} must be a map with str keys, not {_wire_type(key)}")
            converted[key] = value_from_wire(generation, shape.value, item, f"{path}[{describe(key)}]")
        return converted
    if type(value) is not str or value not in _enum_values(generation, shape.enum):
        raise SchemaError(f"{path} must be one of {shape.enum}'s values, not {describe(value)}")
    return value


def _kind_from_wire(generation: Generation, kind: Kind, value: Any, path: str) -> Any:
    if kind is Kind.ANY:
        return value
    if kind in _EXACT:
        exact, name = _EXACT[kind]
        if type(value) is not exact:
            raise SchemaError(f"{path} must be {name}, not {_wire_type(value)}")
        return value
    if kind is Kind.NONE:
        if value is not None:
            raise SchemaError(f"{path} must be nil, not {_wire_type(value)}")
        return value
    if kind is Kind.OPTIONAL_DICT:
        if value is not None and type(value) is not dict:
            raise SchemaError(f"{path} must be a map or nil, not {_wire_type(value)}")
        return value
    if kind is Kind.ARGS:
        if type(value) is not list:
            raise SchemaError(f"{path} must be an array, not {_wire_type(value)}")
        return tuple(value)
    if kind is Kind.EXCEPTION_CLASS:
        if not (isinstance(value, type) and issubclass(value, Exception)):
            raise SchemaError(f"{path} must be an exception class, not {_wire_type(value)}")
        return value
    if kind is Kind.EPOCH:
        return epoch_from_wire(generation, value, path)
    if kind is Kind.OPTIONAL_EPOCH:
        return None if value is None else epoch_from_wire(generation, value, path)
    if type(value) is not str:  # MODEL_JSON
        raise SchemaError(f"{path} must be the JSON text of a model, not {_wire_type(value)}")
    return JsonText(value)


def _wire_type(value: Any) -> str:
    """What a decoded value is, for an error: its type's name (a class is "a class")."""
    return "a class" if isinstance(value, type) else type(value).__qualname__


@lru_cache(maxsize=64)
def _enum_values(generation: Generation, name: str) -> frozenset[str]:
    """The values of the bound module's enum ``name`` that are strs."""
    enum = resolve(generation.bound_module, name)
    return frozenset(member.value for member in enum if type(member.value) is str)


# --- free values -------------------------------------------------------------------------------------


def free_values(shape: Shape, value: Any, path: str, level: int) -> list[tuple[str, Any, int]]:
    """The free values of ``value`` laid out as ``shape`` (which sits at nesting ``level``, the frame's
    array being 1), each with its path and its level: where an encoder looks for the value that it
    cannot write, or for the buffers it sends out of band. What does not fit the shape is skipped."""
    found: list[tuple[str, Any, int]] = []
    _collect_free(shape, value, path, level, found)
    return found


def _collect_free(shape: Shape, value: Any, path: str, level: int, found: list[tuple[str, Any, int]]) -> None:
    if shape is Kind.ANY or shape is Kind.OPTIONAL_DICT:
        found.append((path, value, level))
    elif shape is Kind.ARGS:
        if isinstance(value, tuple | list):
            found.extend((f"{path}[{i}]", item, level + 1) for i, item in enumerate(value))
    elif isinstance(shape, Record):
        if isinstance(value, dict):
            for item in shape.fields:
                if item.name in value:
                    _collect_free(item.shape, value[item.name], f"{path}[{item.name!r}]", level + 1, found)
    elif isinstance(shape, Nullable):
        if value is not None:
            _collect_free(shape.shape, value, path, level, found)
    elif isinstance(shape, ListOf):
        if isinstance(value, list | tuple):
            for i, item in enumerate(value):
                _collect_free(shape.item, item, f"{path}[{i}]", level + 1, found)
    elif isinstance(shape, MapOf) and isinstance(value, dict):
        for key, item in value.items():
            _collect_free(shape.value, item, f"{path}[{describe(key)}]", level + 1, found)
