"""Meta events, as noob's generations tell them from node events inside an event record.

One home for the rule (:class:`noobwire.layout.MetaEvents`): an event whose node id is the meta
events' is a meta event, and its signal must be a meta event type; any other event whose value is a
str of the meta prefix followed by a meta signal's name holds that member. The pure backend applies
it with :func:`apply_rules` (its general path) and in the code it generates per layout
(:func:`rule_lines`); the compiled backend has the same rule in C, calling :func:`checked` and
:func:`member` where it applies.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from noobwire.errors import SchemaError, describe
from noobwire.layout import Generation, MetaEvents, Record, resolve

__all__ = ["apply_rules", "checked", "member", "rule_lines"]


@lru_cache(maxsize=64)
def _meta_signal_names(generation: Generation, meta: MetaEvents) -> frozenset[str]:
    """The values of the bound module's enum of meta event types."""
    return frozenset(str.__str__(member) for member in resolve(generation.bound_module, meta.signals))


def checked(generation: Generation, meta: MetaEvents, signal: Any, index: int) -> None:
    """Refuse a meta event whose signal is not one of the generation's meta event types."""
    if type(signal) is not str or signal not in _meta_signal_names(generation, meta):
        raise SchemaError(
            f"event {index} is a meta event (node_id {meta.node_id!r}) whose signal {describe(signal)} "
            "is not a meta event type"
        )


def member(generation: Generation, meta: MetaEvents, value: str) -> Any:
    """A node event's str value: the meta signal it names (``"__META__NoEvent"``), or itself."""
    if not value.startswith(meta.prefix):
        return value
    return generation.meta_signal_enum.__members__.get(value[len(meta.prefix) :], value)


def apply_rules(generation: Generation, record: Record, fields: dict[str, Any], index: int) -> None:
    """Apply the meta-event rule to one event read as ``fields`` (the ``index``-th of its message):
    check a meta event's signal, or put the member a node event's str value names in its place."""
    meta = record.meta
    if meta is None:
        return
    if fields[meta.node_field] == meta.node_id:
        checked(generation, meta, fields[meta.signal_field], index)
        return
    value = fields[meta.value_field]
    if type(value) is str and value.startswith(meta.prefix):
        fields[meta.value_field] = member(generation, meta, value)


def rule_lines(meta: MetaEvents, node: str, signal: str, value: str, assign: str, indent: str) -> list[str]:
    """The rule as lines of generated Python, for an event whose node id, signal and value are the
    expressions ``node``, ``signal`` and ``value``; a member found is assigned to ``assign``. The code
    calls ``_meta_checked(signal, index)`` and ``_meta_value(value)`` (:func:`checked` and
    :func:`member`, bound to the generation)."""
    return [
        f"{indent}if {node} == {meta.node_id!r}:",
        f"{indent}    _meta_checked({signal}, index)",
        f"{indent}elif type({value}) is str and {value}.startswith({meta.prefix!r}):",
        f"{indent}    {assign} = _meta_value({value})",
    ]
