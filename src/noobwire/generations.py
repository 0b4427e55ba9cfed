"""The generations of noob's message schema that noobwire reads and writes, each with its wire-format
version (``docs/wire-format.md``, section 3).

- version 1, :data:`REFERENCE`: the reference schema, which noobwire's pydantic mirror
  (:mod:`noobwire.messages`) describes; the default everywhere.
- version 2, :data:`NOOB_1003`: noob 1003.x, the noob ``pip install noob`` gives: epochs as
  ``noob_core.Epoch`` paths (``None`` allowed in a process message), meta events, ``epoch_ended``,
  ``spec`` and two more identify fields.
- version 3, :data:`NOOB_1002`: noob 1002.x: as 1003 without ``spec``, the new identify fields and
  optional process epochs.
- version 4, :data:`NOOB_1000`: noob 1000.x to 1001.x: as 1002, with epochs as tuples of
  ``(node_id, n)`` segments.

A generation names the module of its classes; it is bound to it when first used: the reference's
classes are noobwire's mirror (``noobwire.messages``), a noob generation's are noob's own (bound to
``noob.network.message``, or to the module :func:`noobwire.noob.install` patches). This module is a
description, as data: it imports neither.
"""

from __future__ import annotations

import threading
from typing import Any

from noobwire.layout import (
    Epochs,
    Field,
    Generation,
    Kind,
    ListOf,
    MapOf,
    MessageLayout,
    MetaEvents,
    Nullable,
    OneOf,
    Record,
)
from noobwire.wire import PICKLE_PREFIX

__all__ = [
    "BY_VERSION",
    "GENERATIONS",
    "NOOB_1000",
    "NOOB_1002",
    "NOOB_1003",
    "REFERENCE",
    "GenerationLike",
    "as_generation",
    "by_version",
]

_STR_LIST = ListOf(Kind.STR)
_STATUS = OneOf("NodeStatus")


def _identify(*more: Field) -> Record:
    return Record(
        "identify value",
        (
            Field("node_id", Kind.STR),
            Field("outbox", Kind.STR),
            Field("status", _STATUS),
            Field("signals", Nullable(_STR_LIST)),
            Field("slots", Nullable(_STR_LIST)),
            *more,
        ),
    )


def _event(epoch: Kind, meta: MetaEvents | None = None) -> Record:
    return Record(
        "event",
        (
            Field("id", Kind.INT),
            Field("timestamp", Kind.DATETIME),
            Field("node_id", Kind.STR),
            Field("signal", Kind.STR),
            Field("epoch", epoch),
            Field("value", Kind.ANY),
        ),
        meta,
    )


def _messages(
    event: Record, process_epoch: Kind, identify: Record, *more: MessageLayout
) -> tuple[MessageLayout, ...]:
    """The eleven message types every generation has, in the order that gives their type codes, then
    the generation's own."""
    return (
        MessageLayout(
            "announce",
            "AnnounceMsg",
            Record("announce value", (Field("inbox", Kind.STR), Field("nodes", MapOf(identify)))),
        ),
        MessageLayout("identify", "IdentifyMsg", identify),
        MessageLayout(
            "process",
            "ProcessMsg",
            Record("process value", (Field("epoch", process_epoch), Field("input", Kind.OPTIONAL_DICT))),
            constructed=True,
        ),
        MessageLayout("init", "InitMsg", Kind.NONE),
        MessageLayout("deinit", "DeinitMsg", Kind.NONE),
        MessageLayout("ping", "PingMsg", Kind.NONE),
        MessageLayout("start", "StartMsg", Nullable(Kind.INT)),
        MessageLayout("status", "StatusMsg", _STATUS),
        MessageLayout("stop", "StopMsg", Kind.NONE),
        MessageLayout("event", "EventMsg", ListOf(event), constructed=True),
        MessageLayout(
            "error",
            "ErrorMsg",
            Record(
                "error value",
                (
                    Field("err_type", Kind.EXCEPTION_CLASS),
                    Field("err_args", Kind.ARGS),
                    Field("traceback", Kind.STR),
                ),
            ),
        ),
        *more,
    )


REFERENCE = Generation(
    name="reference",
    version=1,
    messages=_messages(_event(Kind.INT), Kind.INT, _identify()),
    module="noobwire.messages",
    summary="the reference schema of February 2026 (noobwire's mirror)",
    json_mirror=True,
)
"""The reference schema, as noobwire's pydantic mirror describes it: wire-format version 1."""

_META = MetaEvents(node_id="meta", signals="event:MetaEventType", prefix="__META__")
_EPOCH_ENDED = MessageLayout("epoch_ended", "EpochEndedMsg", Kind.EPOCH)


def _noob(
    release: str,
    version: int,
    messages: tuple[MessageLayout, ...],
    epochs: Epochs | None = None,
    **more: Any,
) -> Generation:
    """A generation of noob's own schema: its classes in ``noob.network.message``, its meta events
    and epochs, and its ``Picklable`` values, which unpickle strs that start with ``"pck__"``."""
    return Generation(
        name=f"noob {release}",
        version=version,
        messages=messages,
        module="noob.network.message",
        meta_signal="event:MetaSignal",
        snapshot=f"noob-{release}.json",
        pickle_prefix=PICKLE_PREFIX,
        pickle_module="types",
        epochs=epochs or Epochs(),
        **more,
    )


NOOB_1003 = _noob(
    "1003",
    2,
    _messages(
        _event(Kind.EPOCH, _META),
        Kind.OPTIONAL_EPOCH,
        _identify(Field("subscribed_to", _STR_LIST), Field("subscribers", _STR_LIST)),
        _EPOCH_ENDED,
        MessageLayout("spec", "SpecMsg", Kind.MODEL_JSON),
    ),
    summary="noob 1003.x",
    importing_fields=("node.spec:NodeSpecification.nodeinfo",),
)
"""noob 1003.x: wire-format version 2."""

NOOB_1002 = _noob(
    "1002",
    3,
    _messages(_event(Kind.EPOCH, _META), Kind.EPOCH, _identify(), _EPOCH_ENDED),
    summary="noob 1002.x",
)
"""noob 1002.x: wire-format version 3."""

NOOB_1000 = _noob(
    "1000",
    4,
    _messages(_event(Kind.EPOCH, _META), Kind.EPOCH, _identify(), _EPOCH_ENDED),
    epochs=Epochs(segment="types:EpochSegment", min=-(2**63), max=2**64 - 1),
    summary="noob 1000.x to 1001.x",
)
"""noob 1000.x to 1001.x (epochs as tuples of segments): wire-format version 4."""

GENERATIONS: tuple[Generation, ...] = (REFERENCE, NOOB_1003, NOOB_1002, NOOB_1000)
"""Every generation noobwire knows, the default first."""

BY_VERSION = {generation.version: generation for generation in GENERATIONS}
"""Each known wire-format version's generation."""


def by_version(version: int) -> Generation | None:
    """The generation whose frames carry wire-format ``version``, or None if noobwire knows none."""
    return BY_VERSION.get(version)


GenerationLike = Generation | dict[str, type]
"""What a codec is told to read and write: a generation, or, for the reference generation, a dict of
the classes to build (message type to class)."""

_lock = threading.Lock()
_with_classes: dict[int, tuple[dict[str, type], Generation]] = {}


def as_generation(schema: Any) -> Generation:
    """The generation a decoder reads for ``schema``: a :class:`Generation` itself; for a dict of
    classes, the reference generation building them (one per dict, kept while the dict is)."""
    if type(schema) is Generation:
        return schema
    if schema is None or schema is REFERENCE.classes or schema == REFERENCE.classes:
        return REFERENCE
    if not isinstance(schema, dict):
        raise TypeError(
            f"expected a noobwire generation or a dict of classes, not {type(schema).__qualname__}"
        )
    with _lock:
        known = _with_classes.get(id(schema))
        if known is not None and known[0] is schema:
            return known[1]
        generation = REFERENCE.with_classes(schema)
        _with_classes[id(schema)] = (schema, generation)  # the dict is kept, so its id stays its own
        return generation
