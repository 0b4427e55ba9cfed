"""The pure backend's common case of a record, generated from its layout.

A record's layout (:class:`noobwire.layout.Record`) is data; reading it field by field for every record
costs a Python loop and a lookup per field. Instead, each layout is turned once into Python functions
that do what hand-written ones would (``dataclasses`` writes ``__init__`` the same way): read the keys by
name, check the exact types in one expression, convert datetimes and epochs through a per-message
cache, build the list or the dict in one display, and loop over a message's records in the same frame.
They take only the common case; anything else (a missing key, a subclass, a wrong type) goes to the
general path they are given, which converts it or says what is wrong, so both give the same bytes and
the same errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from noobwire._core import meta_events
from noobwire.layout import Kind, Record

_EXACT = {Kind.INT: "int", Kind.STR: "str", Kind.DATETIME: "_datetime"}


@dataclass(frozen=True)
class RecordCode:
    """The generated functions of one record layout.

    - ``write_one(row, path, cache)`` / ``write_all(rows, path, cache)``: a record dict's values in wire
      order (for a list of records, the list of them); ``path`` is where the value is, for errors.
    - ``read_one(row, cache)`` / ``read_all(rows, cache)``: a record's dict from its wire array (for a
      list, the list of them).

    ``cache`` is a list the calls of one message share (the last datetime and epoch met).
    """

    write_one: Callable[[Any, str, list[Any]], list[Any]]
    write_all: Callable[[Any, str, list[Any]], list[list[Any]]]
    read_one: Callable[[Any, list[Any]], dict[str, Any]]
    read_all: Callable[[Any, list[Any]], list[dict[str, Any]]]


def record_code(record: Record, writing: dict[str, Any], reading: dict[str, Any]) -> RecordCode:
    """The functions of ``record``'s common case.

    ``writing`` holds ``_general(row, path, cache)`` (the general path of one record), ``_stamp(value)``
    (a datetime's extension), ``_stamp_checked(value, path)`` (the same, raising the general path's
    error) and ``_epoch(value, path)`` (an epoch's wire form). ``reading``
    holds ``_general(row, what, cache, index)``, ``_epoch(wire, what)`` and, for a record with meta
    events, ``_meta_checked(signal, index)`` and ``_meta_value(value)``. Each raises what the general
    path raises for the same value and path."""
    writers = _build("\n".join([*_writer(record, listed=False), *_writer(record, listed=True)]), writing)
    readers = _build("\n".join([*_reader(record, listed=False), *_reader(record, listed=True)]), reading)
    return RecordCode(writers["write_one"], writers["write_all"], readers["read_one"], readers["read_all"])


def _type_checks(record: Record, prefix: str) -> str:
    """One expression: whether the values ``{prefix}0``, ``{prefix}1``, ... have the exact types their
    kinds ask for (a dict or None for an optional dict)."""
    checks = []
    for i, item in enumerate(record.fields):
        if item.shape in _EXACT:
            checks.append(f"type({prefix}{i}) is {_EXACT[item.shape]}")
        elif item.shape is Kind.OPTIONAL_DICT:
            checks.append(f"({prefix}{i} is None or type({prefix}{i}) is dict)")
    return " and ".join(checks) or "True"


def _build(source: str, namespace: dict[str, Any]) -> dict[str, Any]:
    scope = {"_datetime": datetime, **namespace}
    exec(compile(source, "<noobwire record code>", "exec"), scope)  # (our own text, from the layout)
    return scope


def _writer(record: Record, listed: bool) -> list[str]:
    fields = record.fields
    if listed:
        lines = [
            "def write_all(rows, path, cache):",
            "    out = []",
            "    for index, row in enumerate(rows):",
        ]
        pad, row_path = "        ", "f'{path}[{index}]'"
    else:
        lines = ["def write_one(row, path, cache):"]
        pad, row_path = "    ", "path"
    lines += [f"{pad}if type(row) is dict:", f"{pad}    try:"]
    lines += [f"{pad}        v{i} = row[{item.name!r}]" for i, item in enumerate(fields)]
    lines += [f"{pad}    except KeyError:", f"{pad}        pass", f"{pad}    else:"]
    lines.append(f"{pad}        if {_type_checks(record, 'v')}:")
    body = pad + "            "
    for i, item in enumerate(fields):
        where = f"{row_path} + {f'[{item.name!r}]'!r}"
        if item.shape is Kind.DATETIME:  # the records of one message share one: converted once
            lines += [
                f"{body}if v{i} is not cache[0]:",
                f"{body}    try:",
                f"{body}        cache[1] = _stamp(v{i})",
                f"{body}    except Exception:",  # (its tzinfo raised: the general path says so, and where)
                f"{body}        _stamp_checked(v{i}, {where})",
                f"{body}        raise",
                f"{body}    cache[0] = v{i}",
                f"{body}v{i} = cache[1]",
            ]
        elif item.shape in (Kind.EPOCH, Kind.OPTIONAL_EPOCH):  # ... and one epoch
            indent, test = body, f"v{i} is not cache[2] or v{i} is None"  # (None is no epoch: refused)
            if item.shape is Kind.OPTIONAL_EPOCH:
                lines.append(f"{body}if v{i} is not None:")
                indent, test = body + "    ", f"v{i} is not cache[2]"
            lines += [
                f"{indent}if {test}:",
                f"{indent}    cache[2], cache[3] = v{i}, _epoch(v{i}, {where})",
                f"{indent}v{i} = cache[3]",
            ]
    values = f"[{', '.join(f'v{i}' for i in range(len(fields)))}]"
    general = f"_general(row, {row_path}, cache)" if listed else "_general(row, path, cache)"
    return lines + _ending(listed, body, values, pad, general)


def _reader(record: Record, listed: bool) -> list[str]:
    fields = record.fields
    n = len(fields)
    if listed:
        lines = ["def read_all(rows, cache):", "    out = []", "    for index, row in enumerate(rows):"]
        pad, what = "        ", f"{record.name + ' '!r} + str(index)"  # (a name is data: never code)
    else:
        lines = ["def read_one(row, cache):", "    index = 0"]
        pad, what = "    ", repr(f"the {record.name}")
    lines.append(f"{pad}if type(row) is list and len(row) == {n}:")
    lines.append(f"{pad}    {', '.join(f'w{i}' for i in range(n))}{',' if n == 1 else ''} = row")
    lines.append(f"{pad}    if {_type_checks(record, 'w')}:")
    body = pad + "        "
    for i, item in enumerate(fields):
        if item.shape not in (Kind.EPOCH, Kind.OPTIONAL_EPOCH):
            continue
        indent = body
        if item.shape is Kind.OPTIONAL_EPOCH:
            lines.append(f"{body}if w{i} is not None:")
            indent = body + "    "
        lines += [  # one root epoch serves every record of a message that has it (epochs are immutable)
            f"{indent}if type(w{i}) is int and cache[1] is not None and cache[0] == w{i}:",
            f"{indent}    w{i} = cache[1]",
            f"{indent}else:",
            f"{indent}    epoch = _epoch(w{i}, {what} + {' ' + item.name!r})",
            f"{indent}    if type(w{i}) is int:",
            f"{indent}        cache[0], cache[1] = w{i}, epoch",
            f"{indent}    w{i} = epoch",
        ]
    meta = record.meta
    if meta is not None:
        node, signal, value = (
            record.index(meta.node_field),
            record.index(meta.signal_field),
            record.index(meta.value_field),
        )
        lines += meta_events.rule_lines(
            meta, f"row[{node}]", f"row[{signal}]", f"row[{value}]", f"w{value}", body
        )
    made = f"{{{', '.join(f'{item.name!r}: w{i}' for i, item in enumerate(fields))}}}"
    return lines + _ending(listed, body, made, pad, f"_general(row, {what}, cache, index)")


def _ending(listed: bool, body: str, made: str, pad: str, general: str) -> list[str]:
    """The last lines of a generated function: what the fast path ``made`` of a row (at indent
    ``body``), else what the ``general`` path makes of it (at ``pad``); for a list of rows, appended."""
    if listed:
        return [
            f"{body}out.append({made})",
            f"{body}continue",
            f"{pad}out.append({general})",
            "    return out",
        ]
    return [f"{body}return {made}", f"{pad}return {general}"]
