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
from hypothesis import strategies as st
from pydantic import ValidationError

from helpers import assert_same
from noobwire import DecodeError, MessageAdapter, SchemaError, _pure, wire
from noobwire.codec import Backend
from noobwire.schema import control_value_from_wire
from strategies import datetimes, ints, texts, values

wrong = st.one_of(
    st.none(), st.booleans(), ints, st.floats(), texts, st.binary(max_size=4), datetimes,
    st.lists(st.integers(), max_size=3), st.dictionaries(texts, st.integers(), max_size=2),
)  # fmt: skip


def field(right: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value of the right type, now and then anything."""
    return st.integers(0, 9).flatmap(lambda roll: wrong if roll == 9 else right)


event_values = st.lists(
    field(
        st.tuples(field(ints), field(datetimes), field(texts), field(texts), field(ints), values()).map(list)
    ),
    max_size=3,
)
identify = st.tuples(
    field(texts),
    field(texts),
    field(st.sampled_from(["ready", "stopped", "bogus"])),
    field(st.none() | st.lists(texts, max_size=2)),
    field(st.none() | st.lists(texts, max_size=2)),
).map(list)
VALUES = {
    "announce": st.tuples(field(texts), field(st.dictionaries(texts, field(identify), max_size=2))).map(list),
    "identify": identify,
    "process": st.tuples(field(ints), field(st.none() | st.dictionaries(texts, values(), max_size=3))).map(
        list
    ),
    "init": st.none(),
    "deinit": st.none(),
    "ping": st.none(),
    "start": st.none() | ints,
    "status": st.sampled_from(["ready", "stopped", "running", "bogus"]),
    "stop": st.none(),
    "event": event_values,
    "error": st.tuples(
        field(st.sampled_from([ValueError, KeyError])), field(st.lists(values(), max_size=2)), field(texts)
    ).map(list),
}


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    code = draw(st.integers(0, len(wire.MESSAGE_TYPES) - 1))
    value = draw(field(VALUES[wire.MESSAGE_TYPES[code]]))
    header = [wire.VERSION, code, 0, draw(field(texts)), draw(field(datetimes))]
    return _pure.pack_value([*header, value], allow_pickle=True)


def mirror_decode(frame: bytes) -> Any:
    """What the pydantic mirror makes of a frame (raises ValidationError or SchemaError)."""
    _, code, _, node_id, timestamp, value = _pure._unpack(frame)
    type_name = wire.MESSAGE_TYPES[code]
    if code == wire.EVENT_CODE and isinstance(value, list):
        value = [dict(zip(wire.EVENT_FIELDS, e, strict=True)) if _fits(e, 6) else e for e in value]
    elif code == wire.PROCESS_CODE and _fits(value, 2):
        value = dict(zip(wire.PROCESS_FIELDS, value, strict=True))
    elif code not in (wire.EVENT_CODE, wire.PROCESS_CODE):
        value = control_value_from_wire(type_name, value)
    return MessageAdapter.validate_python(
        {"type": type_name, "node_id": node_id, "timestamp": timestamp, "value": value}
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
    frame = _pure.pack_value(
        [1, wire.EVENT_CODE, 0, "n", ts, [[1, ts, "n", "s", "3", None]]], allow_pickle=True
    )
    assert mirror_decode(frame).value[0]["epoch"] == 3
    with pytest.raises(SchemaError, match="epoch"):
        backend.decode(frame)
