"""Whether a codec gave back what it was given: so that no codec wins a benchmark by doing less."""

from __future__ import annotations

import math
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel

from noobwire.bench.array_ext import is_array

__all__ = ["first_difference"]


def first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """Where ``actual`` differs from ``expected``, as ``"path: what"``, or None if they are the same.

    The same means: the same types at every level (a tuple is not a list, an int is not a float),
    equal values, the same fields of pydantic models and msgspec Structs, numpy arrays of the same
    dtype and shape with equal items (``numpy.array_equal``), and datetimes equal with the same UTC
    offset (their ``tzinfo`` objects may be of different classes). An enum member and its value are
    the same (pydantic keeps a field's default as the member, and a validated value as the value).
    """
    where = path or "message"
    if is_array(expected) or is_array(actual):
        return _array_difference(expected, actual, where)
    if isinstance(expected, datetime) and isinstance(actual, datetime):
        if actual != expected or actual.utcoffset() != expected.utcoffset():
            return f"{where}: {actual!r} != {expected!r}"
        return None
    if isinstance(expected, Enum) is not isinstance(actual, Enum):
        # The mirror's default ``type_`` is a MessageType member, a validated one its value.
        expected, actual = _enum_value(expected), _enum_value(actual)
    if type(actual) is not type(expected):
        return f"{where}: a {type(actual).__qualname__}, expected a {type(expected).__qualname__}"
    if isinstance(expected, BaseModel):
        return _fields_difference(expected, actual, list(type(expected).model_fields), path)
    struct_fields = getattr(type(expected), "__struct_fields__", None)
    if struct_fields is not None:  # a msgspec Struct
        return _fields_difference(expected, actual, list(struct_fields), path)
    if isinstance(expected, dict):
        if list(actual) != list(expected):
            return f"{where}: keys {list(actual)!r} != {list(expected)!r}"
        for key, value in expected.items():
            found = first_difference(value, actual[key], f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(expected, list | tuple):
        if len(actual) != len(expected):
            return f"{where}: {len(actual)} items, expected {len(expected)}"
        for index, (item, actual_item) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(item, actual_item, f"{path}[{index}]")
            if found:
                return found
        return None
    if isinstance(expected, float) and math.isnan(expected) and math.isnan(actual):
        return None
    if actual != expected:
        return f"{where}: {actual!r} != {expected!r}"
    return None


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _fields_difference(expected: Any, actual: Any, names: list[str], path: str) -> str | None:
    for name in names:
        found = first_difference(getattr(expected, name), getattr(actual, name), f"{path}.{name}")
        if found:
            return found
    return None


def _array_difference(expected: Any, actual: Any, where: str) -> str | None:
    import numpy as np

    if not (is_array(expected) and is_array(actual)):
        return f"{where}: a {type(actual).__qualname__}, expected a {type(expected).__qualname__}"
    if actual.dtype != expected.dtype or actual.shape != expected.shape:
        return f"{where}: array {actual.dtype}{actual.shape}, expected {expected.dtype}{expected.shape}"
    if not np.array_equal(actual, expected, equal_nan=expected.dtype.kind in "fc"):
        return f"{where}: array items differ"
    return None
