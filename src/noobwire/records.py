"""The Python side of a generation's layouts, shared by both backends.

A message's value is turned into its wire form by its shape (:mod:`noobwire.layout`) and back. The hot
(constructed) records are written by each backend's own fast path; when that path meets a value it does
not take (a subclass of a field's type, a missing key), it asks :func:`record_to_wire` here, which
converts what the schema allows and names the path of what it does not. The control messages are always
converted here, and their classes validate what a decoder reads back (:func:`validate_control_message`).
Epochs and meta events, which only noob's generations have, are read and written here too.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from noobwire.declared import shape_validator
from noobwire.errors import EncodeError, SchemaError, describe, validation_summary
from noobwire.layout import (
    Generation,
    Kind,
    ListOf,
    MapOf,
    MetaEvents,
    Nullable,
    OneOf,
    Record,
    Shape,
    resolve,
)

__all__ = [
    "as_int",
    "as_optional_dict",
    "as_str",
    "construct_message",
    "epoch_from_wire",
    "epoch_to_wire",
    "free_values",
    "meta_event_checked",
    "meta_value",
    "record_from_wire",
    "record_to_wire",
    "validate_control_message",
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


# --- scalars the schema types, written ---------------------------------------------------------------


def as_str(value: Any, path: str) -> str:
    """A field the schema types as ``str``: a subclass (a ``StrEnum`` member) is written as a str."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    raise EncodeError(f"expected str, got {type(value).__qualname__}", path)


def as_int(value: Any, path: str) -> int:
    """A field the schema types as ``int``: a subclass (``bool``, an ``IntEnum``) is written as an int."""
    if type(value) is int:
        return value
    if isinstance(value, int):
        return int.__index__(value)
    raise EncodeError(f"expected int, got {type(value).__qualname__}", path)


def as_optional_dict(value: Any, path: str) -> dict[Any, Any] | None:
    """A field the schema types as ``dict | None``: a dict subclass is written as a dict."""
    if value is None or type(value) is dict:
        return value
    if isinstance(value, dict):
        return dict(value)
    raise EncodeError(f"expected a dict or None, got {type(value).__qualname__}", path)


def _as_datetime(value: Any, path: str) -> datetime:
    if isinstance(value, datetime):
        return value
    raise EncodeError(f"expected datetime, got {type(value).__qualname__}", path)


def _as_exception_class(value: Any, path: str) -> type[Exception]:
    if isinstance(value, type) and issubclass(value, Exception):
        return value
    raise EncodeError(f"expected an exception class, got {type(value).__qualname__}", path)


def _as_args(value: Any, path: str) -> list[Any]:
    if isinstance(value, tuple | list):
        return list(value)
    raise EncodeError(f"expected a tuple, got {type(value).__qualname__}", path)


def _as_none(value: Any, path: str) -> None:
    if value is not None:
        raise EncodeError(f"expected None, got {type(value).__qualname__}", path)


# --- epochs ------------------------------------------------------------------------------------------


def epoch_to_wire(generation: Generation, epoch: Any, path: str) -> int | list[Any]:
    """The wire form of an epoch: its root for a root epoch, else ``[root, [node_id, n], ...]``.

    An int is taken as the root epoch of that number (as noob's own validation takes it).
    """
    epochs = generation.epochs
    cls = generation.epoch_class
    if epochs is None or cls is None:
        raise EncodeError(f"the {generation.name} schema has no epochs", path)
    if isinstance(epoch, int) and not isinstance(epoch, cls):
        return _epoch_number(generation, int.__index__(epoch), path)
    if not isinstance(epoch, cls):
        raise EncodeError(
            f"expected an epoch ({cls.__qualname__}) or an int, got {type(epoch).__qualname__}", path
        )
    if generation.segment_class is None:
        wire = epoch.to_wire()
        if type(wire) is int:
            return wire
        root, *segments = wire
    else:
        first, *segments = epoch
        root = first[1] if first[0] == epochs.root_name else [as_str(first[0], path), first[1]]
        if not segments and type(root) is int:
            return _epoch_number(generation, root, path)
    if 1 + len(segments) > epochs.max_levels:
        raise EncodeError(f"an epoch of {1 + len(segments)} levels, more than {epochs.max_levels}", path)
    return [
        root if type(root) is not int else _epoch_number(generation, root, path),
        *([as_str(node_id, path), _epoch_number(generation, number, path)] for node_id, number in segments),
    ]


def _epoch_number(generation: Generation, number: Any, path: str) -> int:
    epochs = generation.epochs
    assert epochs is not None
    if type(number) is not int or not epochs.min <= number <= epochs.max:
        raise EncodeError(
            f"an epoch number out of the range of {generation.name}'s epochs: {describe(number)}", path
        )
    return number


def epoch_from_wire(generation: Generation, wire: Any, what: str) -> Any:
    """The epoch object of an epoch's wire form (see :func:`epoch_to_wire`), or :class:`SchemaError`."""
    epochs = generation.epochs
    cls = generation.epoch_class
    if epochs is None or cls is None:
        raise SchemaError(f"{what}: the {generation.name} schema has no epochs")
    if type(wire) is int:
        return cls(_checked_number(generation, wire, what))
    if type(wire) is not list or not wire:
        raise SchemaError(f"{what} must be an epoch: an int, or an array [root, [node_id, n], ...]")
    if len(wire) > epochs.max_levels:
        raise SchemaError(f"{what} is an epoch of {len(wire)} levels, more than {epochs.max_levels}")
    root, *path = wire
    segments = [_segment(generation, segment, what) for segment in path]
    if generation.segment_class is None:
        if type(root) is not int:
            raise SchemaError(f"{what} must be an epoch whose root is an int")
        return cls(_checked_number(generation, root, what), segments)
    make = generation.segment_class
    first = (
        make(epochs.root_name, _checked_number(generation, root, what))
        if type(root) is int
        else make(*_segment(generation, root, what))
    )
    return cls((first, *(make(*segment) for segment in segments)))


def _checked_number(generation: Generation, number: int, what: str) -> int:
    epochs = generation.epochs
    assert epochs is not None
    if not epochs.min <= number <= epochs.max:
        raise SchemaError(f"{what} holds an epoch number out of the range of {generation.name}'s epochs")
    return number


def _segment(generation: Generation, segment: Any, what: str) -> tuple[str, int]:
    if (
        type(segment) is not list
        or len(segment) != 2
        or type(segment[0]) is not str
        or type(segment[1]) is not int
    ):
        raise SchemaError(f"{what} must be an epoch whose sub-epochs are arrays [node_id, n]")
    return segment[0], _checked_number(generation, segment[1], what)


# --- meta events -------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _meta_signal_names(generation: Generation, meta: MetaEvents) -> frozenset[str]:
    """The values of the bound module's enum of meta event types."""
    return frozenset(str.__str__(member) for member in resolve(generation.bound_module, meta.signals))


def meta_event_checked(generation: Generation, meta: MetaEvents, signal: Any, index: int) -> None:
    """Refuse a meta event whose signal is not one of the generation's meta event types."""
    if type(signal) is not str or signal not in _meta_signal_names(generation, meta):
        raise SchemaError(
            f"event {index} is a meta event (node_id {meta.node_id!r}) whose signal {describe(signal)} "
            "is not a meta event type"
        )


def meta_value(generation: Generation, meta: MetaEvents, value: str) -> Any:
    """A node event's str value: the meta signal it names (``"__META__NoEvent"``), or itself."""
    if not value.startswith(meta.prefix):
        return value
    return generation.meta_signal_enum.__members__.get(value[len(meta.prefix) :], value)


# --- records, written --------------------------------------------------------------------------------

_SCALARS_TO_WIRE = {
    Kind.INT: as_int,
    Kind.STR: as_str,
    Kind.DATETIME: _as_datetime,
    Kind.OPTIONAL_DICT: as_optional_dict,
    Kind.NONE: _as_none,
    Kind.EXCEPTION_CLASS: _as_exception_class,
    Kind.ARGS: _as_args,
}


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
        return _SCALARS_TO_WIRE[shape](value, path)
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


@lru_cache(maxsize=64)
def _model_adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def _model_json(value: Any, path: str) -> str:
    """A pydantic model as the JSON text its own class writes (by alias, as noob's messages write)."""
    dump = getattr(value, "model_dump_json", None)
    if dump is None:
        raise EncodeError(f"expected a pydantic model, got {type(value).__qualname__}", path)
    try:
        text: str = dump(by_alias=True)
    except Exception as exc:
        raise EncodeError(f"cannot write this {type(value).__qualname__} as JSON ({exc})", path) from exc
    return text


# --- records, read back ------------------------------------------------------------------------------


def record_from_wire(generation: Generation, record: Record, value: Any, what: str) -> dict[str, Any]:
    """The dict of a record read from its wire form, each field checked as its kind says; anything
    else is a :class:`SchemaError` naming the field."""
    fields = record.fields
    if type(value) is not list or len(value) != len(fields):
        raise SchemaError(f"{what} must be an array of {len(fields)} fields {list(record.keys)}")
    return {
        item.name: _flat_from_wire(generation, item.shape, wire, f"{what} {item.name}")
        for item, wire in zip(fields, value, strict=True)
    }


_EXACT = {Kind.INT: (int, "an int"), Kind.STR: (str, "a str"), Kind.DATETIME: (datetime, "a timestamp")}


def _flat_from_wire(generation: Generation, kind: Shape, wire: Any, what: str) -> Any:
    if kind in _EXACT:
        exact, name = _EXACT[kind]
        if type(wire) is not exact:
            raise SchemaError(f"{what} must be {name}, not {type(wire).__qualname__}")
        return wire
    if kind is Kind.OPTIONAL_DICT:
        if wire is not None and type(wire) is not dict:
            raise SchemaError(f"{what} must be a map or nil, not {type(wire).__qualname__}")
        return wire
    if kind is Kind.EPOCH:
        return epoch_from_wire(generation, wire, what)
    if kind is Kind.OPTIONAL_EPOCH:
        return None if wire is None else epoch_from_wire(generation, wire, what)
    return wire  # ANY


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
    return _JsonText(value)


def _wire_type(value: Any) -> str:
    """What a decoded value is, for an error: its type's name (a class is "a class")."""
    return "a class" if isinstance(value, type) else type(value).__qualname__


@lru_cache(maxsize=64)
def _enum_values(generation: Generation, name: str) -> frozenset[str]:
    """The values of the bound module's enum ``name`` that are strs."""
    enum = resolve(generation.bound_module, name)
    return frozenset(member.value for member in enum if type(member.value) is str)


class _JsonText(str):
    """The JSON text of a model, validated by its message class in :func:`validate_control_message`."""


def validate_control_message(cls: type[Any], type_name: str, node_id: Any, timestamp: Any, value: Any) -> Any:
    """Validate a decoded control message with its class (the slow path). A model carried as JSON text
    is first checked against its declared shape (:mod:`noobwire.declared`), so that none of its
    class's validators sees a value of another shape. A refusal's message names the first few
    problems, cut short; pydantic's whole report is its cause."""
    try:
        if type(value) is _JsonText:
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
