"""The pure backend's fast path for a record, generated from its layout.

A record's layout (:class:`noobwire.layout.Record`) is data; reading it field by field for every record
costs a Python loop and a lookup per field. Instead, each layout is turned once into two small Python
functions that do what a hand-written pair would (``dataclasses`` writes ``__init__`` the same way):
read the keys by name, check the exact types in one expression, convert datetimes and epochs through a
per-message cache, build the list or the dict in one display. They only take the common case: each
returns None for anything else (a missing key, a subclass, a wrong type), and the caller's general
path then converts it or says what is wrong, so both paths give the same bytes and the same errors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from noobwire.layout import Kind, Record

RecordWriter = Callable[[Any, str, int, list[Any]], "list[Any] | None"]
"""``writer(row, path, index, cache)``: a record dict's values in wire order, or None to take the
general path. ``index`` is the record's place in a list (its path is then ``path[index]``), or -1."""

RecordReader = Callable[[Any, int, list[Any]], "dict[str, Any] | None"]
"""``reader(row, index, cache)``: a record's dict from its wire array, or None to take the general path.
``index`` is the record's place in a list, or -1 for a message's one record."""

_EXACT = {Kind.INT: "int", Kind.STR: "str", Kind.DATETIME: "_datetime"}


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


def _build(source: str, name: str, namespace: dict[str, Any]) -> Any:
    scope = {"_datetime": datetime, **namespace}
    exec(compile(source, f"<noobwire plan of {name}>", "exec"), scope)  # (our own text, from the layout)
    return scope[name]


def record_writer(record: Record, namespace: dict[str, Any]) -> RecordWriter:
    """The writer of ``record``'s common case. ``namespace`` holds ``_stamp(value, path)`` (a datetime's
    extension) and ``_epoch(value, path)`` (an epoch's wire form), which raise what the general path
    raises for the same value and path."""
    fields = record.fields
    lines = ["def write(row, path, index, cache):", "    if type(row) is not dict:", "        return None"]
    lines.append("    try:")
    lines += [f"        v{i} = row[{item.name!r}]" for i, item in enumerate(fields)]
    lines += ["    except KeyError:", "        return None"]
    lines += [f"    if not ({_type_checks(record, 'v')}):", "        return None"]
    for i, item in enumerate(fields):
        where = f"(path if index < 0 else f'{{path}}[{{index}}]') + {f'[{item.name!r}]'!r}"
        if item.shape is Kind.DATETIME:  # the records of one message share one: converted once
            lines += [
                f"    if v{i} is not cache[0]:",
                f"        cache[1] = _stamp(v{i}, {where})",
                f"        cache[0] = v{i}",
                f"    v{i} = cache[1]",
            ]
        elif item.shape in (Kind.EPOCH, Kind.OPTIONAL_EPOCH):  # ... and one epoch
            indent = "    "
            if item.shape is Kind.OPTIONAL_EPOCH:
                lines.append(f"    if v{i} is not None:")
                indent = "        "
            lines += [
                f"{indent}if v{i} is not cache[2] or v{i} is None:",
                f"{indent}    cache[2], cache[3] = v{i}, _epoch(v{i}, {where})",
                f"{indent}v{i} = cache[3]",
            ]
    lines.append(f"    return [{', '.join(f'v{i}' for i in range(len(fields)))}]")
    return _build("\n".join(lines), "write", namespace)  # type: ignore[no-any-return]


def record_reader(record: Record, namespace: dict[str, Any]) -> RecordReader:
    """The reader of ``record``'s common case. ``namespace`` holds ``_epoch(wire, what)`` (an epoch from
    its wire form), and for a record with meta events ``_meta_checked(signal, index)`` and
    ``_meta_value(value)``, which raise what the general path raises."""
    fields = record.fields
    n = len(fields)
    names = [f"w{i}" for i in range(n)]
    lines = ["def read(row, index, cache):"]
    lines += [f"    if type(row) is not list or len(row) != {n}:", "        return None"]
    lines.append(f"    {', '.join(names)}{',' if n == 1 else ''} = row")
    lines += [f"    if not ({_type_checks(record, 'w')}):", "        return None"]
    what = f"(f'{record.name} {{index}}' if index >= 0 else {'the ' + record.name!r})"
    for i, item in enumerate(fields):
        if item.shape not in (Kind.EPOCH, Kind.OPTIONAL_EPOCH):
            continue
        indent = "    "
        if item.shape is Kind.OPTIONAL_EPOCH:
            lines.append(f"    if w{i} is not None:")
            indent = "        "
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
            record.index(name) for name in (meta.node_field, meta.signal_field, meta.value_field)
        )
        lines += [
            f"    if row[{node}] == {meta.node_id!r}:",
            f"        _meta_checked(row[{signal}], max(index, 0))",
            f"    elif type(row[{value}]) is str and row[{value}].startswith({meta.prefix!r}):",
            f"        w{value} = _meta_value(row[{value}])",
        ]
    lines.append(f"    return {{{', '.join(f'{item.name!r}: w{i}' for i, item in enumerate(fields))}}}")
    return _build("\n".join(lines), "read", namespace)  # type: ignore[no-any-return]
