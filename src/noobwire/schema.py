"""The message schema on the wire, shared by both backends.

The hot messages (``EventMsg``, ``ProcessMsg``) are checked field by field by each backend and built
here without a second validation. The control messages are laid out positionally here and validated by
the pydantic mirror when they are read back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from noobwire import wire
from noobwire.errors import EncodeError, SchemaError, describe
from noobwire.messages import Message

__all__ = [
    "as_int",
    "as_optional_dict",
    "as_str",
    "construct_message",
    "control_value_from_wire",
    "control_value_to_wire",
    "validate_control_message",
]

_object_new = object.__new__
_object_setattr = object.__setattr__
_FIELDS = frozenset(("type_", "node_id", "timestamp", "value"))


def construct_message(
    cls: type[Message], type_name: str, node_id: str, timestamp: datetime, value: Any
) -> Message:
    """Build ``cls`` from fields that are already known to fit its schema, without validating.

    The instance is what the reference's ``validate_json`` returns for the same message: ``type_`` a
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


# --- schema-typed fields when encoding ------------------------------------------------------------


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


def _as_opt_str_list(value: Any, path: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise EncodeError(f"expected a list of str or None, got {type(value).__qualname__}", path)
    return [as_str(item, f"{path}[{i}]") for i, item in enumerate(value)]


def _mapping(value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise EncodeError(f"expected a dict, got {type(value).__qualname__}", path)
    return value


def _identify_to_wire(value: Any, path: str) -> list[Any]:
    value = _mapping(value, path)
    try:
        return [
            as_str(value["node_id"], f"{path}['node_id']"),
            as_str(value["outbox"], f"{path}['outbox']"),
            as_str(value["status"], f"{path}['status']"),
            _as_opt_str_list(value["signals"], f"{path}['signals']"),
            _as_opt_str_list(value["slots"], f"{path}['slots']"),
        ]
    except KeyError as exc:
        raise EncodeError(f"missing key {describe(exc.args[0])}", path) from None


def control_value_to_wire(type_name: str, value: Any) -> Any:
    """The positional wire form of a control message's value (not ``event`` or ``process``)."""
    path = "value"
    if type_name in ("ping", "init", "deinit", "stop"):
        if value is not None:
            raise EncodeError(f"expected None, got {type(value).__qualname__}", path)
        return None
    if type_name == "start":
        return None if value is None else as_int(value, path)
    if type_name == "status":
        return as_str(value, path)
    if type_name == "identify":
        return _identify_to_wire(value, path)
    if type_name == "announce":
        value = _mapping(value, path)
        try:
            inbox, nodes = value["inbox"], value["nodes"]
        except KeyError as exc:
            raise EncodeError(f"missing key {describe(exc.args[0])}", path) from None
        nodes = _mapping(nodes, f"{path}['nodes']")
        return [
            as_str(inbox, f"{path}['inbox']"),
            {
                as_str(name, f"{path}['nodes']"): _identify_to_wire(
                    node, f"{path}['nodes'][{describe(name)}]"
                )
                for name, node in nodes.items()
            },
        ]
    if type_name == "error":
        value = _mapping(value, path)
        try:
            err_type, err_args, traceback = value["err_type"], value["err_args"], value["traceback"]
        except KeyError as exc:
            raise EncodeError(f"missing key {describe(exc.args[0])}", path) from None
        if not (isinstance(err_type, type) and issubclass(err_type, Exception)):
            raise EncodeError(
                f"expected an exception class, got {type(err_type).__qualname__}",
                f"{path}['err_type']",
            )
        if not isinstance(err_args, tuple | list):
            raise EncodeError(f"expected a tuple, got {type(err_args).__qualname__}", f"{path}['err_args']")
        return [err_type, list(err_args), as_str(traceback, f"{path}['traceback']")]
    raise EncodeError(f"unknown message type {describe(type_name)}", "type")


# --- control messages when decoding -------------------------------------------------------------


def _positional(value: Any, fields: tuple[str, ...], what: str) -> dict[str, Any]:
    if type(value) is not list or len(value) != len(fields):
        raise SchemaError(f"{what} must be an array of {len(fields)} fields {list(fields)}")
    return dict(zip(fields, value, strict=True))


def control_value_from_wire(type_name: str, value: Any) -> Any:
    """Turn a decoded positional control value back into the dict the schema describes."""
    if type_name == "identify":
        return _positional(value, wire.IDENTIFY_FIELDS, "an identify value")
    if type_name == "announce":
        announce = _positional(value, ("inbox", "nodes"), "an announce value")
        nodes = announce["nodes"]
        if type(nodes) is not dict:
            raise SchemaError("the nodes of an announce value must be a map")
        announce["nodes"] = {
            name: _positional(node, wire.IDENTIFY_FIELDS, "an identify value") for name, node in nodes.items()
        }
        return announce
    if type_name == "error":
        error = _positional(value, wire.ERROR_FIELDS, "an error value")
        if type(error["err_args"]) is not list:
            raise SchemaError("the err_args of an error value must be an array")
        error["err_args"] = tuple(error["err_args"])
        return error
    return value


def validate_control_message(
    cls: type[Message], type_name: str, node_id: Any, timestamp: Any, value: Any
) -> Message:
    """Validate a decoded control message with the pydantic mirror (the slow path)."""
    data = {
        "type": type_name,
        "node_id": node_id,
        "timestamp": timestamp,
        "value": control_value_from_wire(type_name, value),
    }
    try:
        msg: Message = cls.__pydantic_validator__.validate_python(data)
    except ValidationError as exc:
        raise SchemaError(f"{type_name} message breaks the schema: {exc}") from exc
    except Exception as exc:  # a validator that failed on a hostile value (repr of a deep list, ...)
        raise SchemaError(
            f"{type_name} message breaks the schema ({type(exc).__name__} while validating it)"
        ) from exc
    return msg
