"""Epochs on the wire: a generation's epoch objects written as their wire form and read back.

An epoch is written as its root's number for a root epoch, else as ``[root, [node_id, n], ...]``
(``docs/wire-format.md``); its numbers must be in the generation's range and it has at most
``Epochs.max_levels`` levels. Both backends convert what their own fast paths do not take here.
"""

from __future__ import annotations

from typing import Any

from noobwire._core.extensions import MAX_SHARED_HASH
from noobwire._core.scalars import as_str
from noobwire.errors import EncodeError, SchemaError, describe
from noobwire.layout import Generation, Kind, Record

__all__ = ["epoch_from_wire", "epoch_to_wire", "refuse_shared_hashes"]


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


def refuse_shared_hashes(generation: Generation, record: Record, rows: list[dict[str, Any]]) -> None:
    """Refuse (:class:`SchemaError`) the records of one message if more than ``MAX_SHARED_HASH`` of
    their distinct epochs share a hash value, in a generation whose epochs are Python tuples of
    segments (noob 1000 to 1001): their numbers' hashes are the frame's to choose (``n`` and
    ``n + 2**61 - 1`` hash alike), and noob's event store, which files every received event by its
    epoch, would compare each new epoch with all the others. Honest epochs share a hash almost never."""
    if generation.segment_class is None or len(rows) <= MAX_SHARED_HASH:
        return
    fields = [item.name for item in record.fields if item.shape in (Kind.EPOCH, Kind.OPTIONAL_EPOCH)]
    groups: dict[int, list[Any]] = {}
    for row in rows:
        for field in fields:
            epoch = row[field]
            group = groups.setdefault(hash(epoch), [])
            if any(known is epoch or known == epoch for known in group):  # (at most MAX_SHARED_HASH)
                continue
            group.append(epoch)
            if len(group) > MAX_SHARED_HASH:
                raise SchemaError(
                    f"more than {MAX_SHARED_HASH} distinct epochs of one hash value in one message: a "
                    "frame made to slow down noob's event store"
                )
