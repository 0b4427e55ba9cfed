"""The MessagePack decoder against the pydantic mirror, on frames with right and wrong fields.

The mirror's verdict on a frame: unpack it, rebuild the schema's dicts from the positional values, and
validate them with the reference's discriminated union (pydantic, lax mode). The decoder may be
stricter than that (docs/wire-format.md, 2.1) but it must never accept what the mirror rejects, and
where both accept they must return the same message.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import pytest
from hypothesis import event, given
from pydantic import ValidationError

from helpers import assert_same
from noobwire import DecodeError, MessageAdapter, SchemaError
from noobwire._core import pure
from noobwire._core.shapes import value_from_wire
from noobwire.codec import Backend
from noobwire.generations import REFERENCE
from noobwire.layout import ListOf, Record
from strategies import frames


def mirror_decode(frame: bytes) -> Any:
    """What the pydantic mirror makes of a frame (raises ValidationError or SchemaError)."""
    _, code, _, node_id, timestamp, value = pure.unpack(frame)
    layout = REFERENCE.messages[code]
    shape = layout.value
    if isinstance(shape, ListOf) and isinstance(value, list):
        keys = shape.item.keys  # type: ignore[union-attr]
        value = [dict(zip(keys, e, strict=True)) if _fits(e, len(keys)) else e for e in value]
    elif isinstance(shape, Record) and layout.constructed and _fits(value, len(shape.keys)):
        value = dict(zip(shape.keys, value, strict=True))
    elif not layout.constructed:
        value = value_from_wire(REFERENCE, shape, value)
    return MessageAdapter.validate_python(
        {"type": layout.type, "node_id": node_id, "timestamp": timestamp, "value": value}
    )


def _fits(value: Any, length: int) -> bool:
    return isinstance(value, list) and len(value) == length


@given(frame=frames())
def test_decoder_accepts_nothing_the_mirror_rejects(backend: Backend, frame: bytes) -> None:
    try:
        ours = backend.decode(frame)
    except SchemaError:
        event("refused")
        return  # stricter than the mirror is allowed (and pinned in test_bad_input)
    event(f"decoded a {ours.type_} message")
    try:
        theirs = mirror_decode(frame)
    except (ValidationError, SchemaError) as exc:
        raise AssertionError(f"decoded a frame the mirror rejects: {exc}") from exc
    assert_same(theirs, ours)
    assert type(ours) is type(theirs)


@given(frame=frames())
def test_well_formed_frames_never_raise_anything_but_decode_errors(backend: Backend, frame: bytes) -> None:
    with contextlib.suppress(DecodeError):
        backend.decode(frame)


def test_the_mirror_is_laxer_where_the_docs_say_so(backend: Backend) -> None:
    """The pinned strictness: an epoch of "3" is refused by noobwire, accepted by the mirror."""
    ts = datetime(2026, 1, 1)
    frame = pure.pack_value(
        [1, REFERENCE.type_codes["event"], 0, "n", ts, [[1, ts, "n", "s", "3", None]]], allow_pickle=True
    )
    assert mirror_decode(frame).value[0]["epoch"] == 3
    with pytest.raises(SchemaError, match="epoch"):
        backend.decode(frame)
