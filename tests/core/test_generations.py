"""A generation of the schema is a description: both backends read and write one they have never seen,
byte for byte alike, without new encoder or decoder code."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any, Literal

import msgpack
import pytest
from pydantic import BaseModel, ConfigDict, Field

from helpers import assert_same, handovers
from noobwire import Codec, DecodeError, EncodeError, SchemaError
from noobwire._core import pure
from noobwire.codec import Backend
from noobwire.generations import REFERENCE
from noobwire.layout import Field as LayoutField
from noobwire.layout import Generation, Kind, ListOf, MessageLayout, Record

if sys.version_info < (3, 12):
    from typing_extensions import TypedDict
else:
    from typing import TypedDict

T = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


# --- the toy schema: the reference's event message, each event with one more str field ---------------


class ToyEvent(TypedDict):
    id: int
    timestamp: datetime
    node_id: str
    signal: str
    epoch: int
    value: Any
    unit: str


class ToyEventMsg(BaseModel):
    type_: Literal["event"] = Field("event", alias="type")
    node_id: str
    timestamp: datetime
    value: list[ToyEvent]

    model_config = ConfigDict(validate_by_alias=True, serialize_by_alias=True)


REFERENCE_EVENT = REFERENCE.messages[REFERENCE.type_codes["event"]].record

TOY = Generation(
    name="toy",
    version=100,
    messages=(
        MessageLayout(
            "event",
            "ToyEventMsg",
            ListOf(Record("event", (*REFERENCE_EVENT.fields, LayoutField("unit", Kind.STR)))),
            constructed=True,
        ),
    ),
    module=__name__,
    meta_signal=None,
)


def toy_message(*units: str) -> ToyEventMsg:
    return ToyEventMsg(
        node_id="cam",
        timestamp=T,
        value=[
            ToyEvent(id=i, timestamp=T, node_id="cam", signal="s", epoch=3, value=[i, "x"], unit=unit)
            for i, unit in enumerate(units)
        ],
    )


def expected_frame(msg: ToyEventMsg) -> bytes:
    """The frame the description says, written by msgpack-python alone."""
    stamp = msgpack.Timestamp.from_datetime(T)
    events = [
        [e["id"], stamp, e["node_id"], e["signal"], e["epoch"], e["value"], e["unit"]] for e in msg.value
    ]
    return msgpack.packb([100, 0, 0, msg.node_id, stamp, events], use_bin_type=True)


def test_both_backends_write_the_frame_the_description_says(backend: Backend) -> None:
    msg = toy_message("mm", "s")
    frame = backend.encode(msg, TOY, Codec().options)
    assert frame == expected_frame(msg)
    assert frame[:4] == bytes([0x96, 100, 0, 0])


def test_both_backends_read_it_back_into_the_toy_class(backend: Backend) -> None:
    msg = toy_message("mm", "s", "")
    decoded = backend.decode(expected_frame(msg), TOY)
    assert type(decoded) is ToyEventMsg
    assert_same(msg.value, decoded.value)
    assert list(decoded.value[0]) == ["id", "timestamp", "node_id", "signal", "epoch", "value", "unit"]


def test_a_codec_of_the_toy_generation(backend: Backend) -> None:
    codec = Codec(generation=TOY, backend=backend.name)
    msg = toy_message("a")
    frame = codec.encode(msg)
    assert frame == expected_frame(msg)
    assert_same(msg.value, codec.decode(frame).value)


def test_the_compiled_backend_takes_the_toy_generation_itself() -> None:
    pytest.importorskip("noobwire._core.compiled", reason="the compiled extension is not built")
    compiled = Codec(generation=TOY, backend="compiled")
    msg = toy_message("a", "b")
    with handovers() as calls:
        frame = compiled.encode(msg)
        compiled.decode(frame)
    assert calls == []  # no hand-over to the pure backend: the compiled tables did it all


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ([1, msgpack.Timestamp(0, 0), "cam", "s", 3, None], "must be an array of 7 fields"),
        ([1, msgpack.Timestamp(0, 0), "cam", "s", 3, None, 7], r"event 0\['unit'\] must be a str"),
    ],
)
def test_a_toy_frame_that_breaks_the_toy_schema_is_refused(
    backend: Backend, event: list[Any], error: str
) -> None:
    frame = msgpack.packb([100, 0, 0, "cam", msgpack.Timestamp(0, 0), [event]], use_bin_type=True)
    with pytest.raises(SchemaError, match=error):
        backend.decode(frame, TOY)


def test_frames_of_one_generation_are_refused_by_another(backend: Backend) -> None:
    toy_frame = expected_frame(toy_message("a"))
    with pytest.raises(DecodeError, match="unsupported wire format version 100: this codec reads version 1"):
        backend.decode(toy_frame)
    reference_frame = pure.encode(
        REFERENCE.classes["event"](node_id="cam", timestamp=T, value=[])  # an empty reference event message
    )
    with pytest.raises(DecodeError, match="unsupported wire format version 1 here: it is the reference"):
        backend.decode(reference_frame, TOY)


def test_calls_that_change_generation_each_time_read_and_write_each_with_its_own(backend: Backend) -> None:
    # The compiled backend remembers the generation it was last given: it must never answer for another.
    toy_msg = toy_message("a")
    reference_msg = REFERENCE.classes["event"](node_id="cam", timestamp=T, value=[])
    toy_frame, reference_frame = expected_frame(toy_msg), pure.encode(reference_msg)
    for _ in range(3):
        assert backend.encode(toy_msg, TOY, Codec().options) == toy_frame
        assert backend.encode(reference_msg) == reference_frame
        assert type(backend.decode(toy_frame, TOY)) is ToyEventMsg
        assert type(backend.decode(reference_frame)) is type(reference_msg)
        assert type(backend.decode(reference_frame, REFERENCE.classes)) is type(reference_msg)
        with pytest.raises(DecodeError, match="unsupported wire format version 1 here"):
            backend.decode(reference_frame, TOY)
        with pytest.raises(DecodeError, match="unsupported wire format version 100"):
            backend.decode(toy_frame, REFERENCE)


def test_a_meta_signal_extension_is_refused_where_the_schema_has_none(backend: Backend) -> None:
    stamp = msgpack.Timestamp(0, 0)
    frame = msgpack.packb(
        [100, 0, 0, "cam", stamp, [[1, stamp, "cam", "s", 3, msgpack.ExtType(6, b""), "u"]]],
        use_bin_type=True,
    )
    with pytest.raises(DecodeError, match="no meta signals"):
        backend.decode(frame, TOY)


@pytest.mark.parametrize("name", ["E4", "E64", "P", "E4n", "E4sub"])
def test_the_pure_plans_take_each_workload_record_the_common_way(name: str) -> None:
    # The pure backend's common case is code generated from the layout (noobwire._core.record_code): it
    # must take the records of the workloads itself (else every message silently goes the general way),
    # and write and read what the general path does.
    from noobwire.bench.workloads import make_workload, workload_generation

    try:
        msg = make_workload(name)
    except ImportError as exc:  # E4n and E4sub need noob 1003
        pytest.skip(str(exc))
    generation = workload_generation(name)
    layout = generation.messages[generation.type_codes[str(msg.type_)]]
    plan, listed = pure._plan(generation, layout)
    assert listed == layout.listed
    code = plan.code
    general_calls: list[str] = []

    def recorded(function: Any, name: str) -> Any:
        def call(*args: Any) -> Any:
            general_calls.append(name)
            return function(*args)

        return call

    rows = msg.value if listed else [msg.value]
    read_value = pure.unpack(pure.encode(msg, generation=generation), generation=generation)[5]
    wire_rows = read_value if listed else [read_value]
    with pytest.MonkeyPatch.context() as patch:
        for function in (code.write_one, code.read_one):  # (the writers share a namespace, the readers one)
            patch.setitem(function.__globals__, "_general", recorded(function.__globals__["_general"], "x"))
        if listed:
            written = code.write_all(rows, "value", [None] * 4)
            read = code.read_all(wire_rows, [None, None])
        else:
            written = [code.write_one(rows[0], "value", [None] * 4)]
            read = [code.read_one(wire_rows[0], [None, None])]
    assert general_calls == []
    for index, row in enumerate(rows):
        path = f"value[{index}]" if listed else "value"
        assert written[index] == pure._record_to_wire(plan, row, path, [None] * 4)
        what = f"{plan.record.name} {index}" if listed else f"the {plan.record.name}"
        assert read[index] == pure._record_from_wire(plan, wire_rows[index], what, [None, None], index)
        assert read[index] == row
    # What the common case does not take goes the general way (which says what is wrong).
    with pytest.raises(EncodeError):
        code.write_one([*rows[0].values()], "value", [None] * 4)
    with pytest.raises(SchemaError):
        code.read_one({}, [None, None])


def test_record_code_takes_any_names_as_data() -> None:
    # Names are written into the generated code as literals: quotes and braces must stay text.
    from noobwire._core.record_code import record_code

    record = Record(name="it's {odd}", fields=(LayoutField('k"1', Kind.INT), LayoutField("{k2}'", Kind.STR)))
    refused: list[tuple[Any, ...]] = []
    code = record_code(
        record,
        {
            "_general": lambda *args: refused.append(args) or ["general"],
            "_stamp": None,
            "_stamp_checked": None,
        },
        {"_general": lambda *args: refused.append(args) or {"general": True}},
    )
    assert code.write_all([{'k"1': 1, "{k2}'": "x"}], "value", [None] * 4) == [[1, "x"]]
    assert code.read_all([[1, "x"]], [None, None]) == [{'k"1': 1, "{k2}'": "x"}]
    assert code.read_all([[1, 2]], [None, None]) == [{"general": True}]
    assert refused == [([1, 2], "it's {odd} 0", [None, None], 0)]
