"""Hypothesis strategies for every value kind and every message type."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from noobwire import (
    AnnounceMsg,
    DeinitMsg,
    ErrorMsg,
    EventMsg,
    IdentifyMsg,
    InitMsg,
    Message,
    MetaSignal,
    NodeStatus,
    PingMsg,
    ProcessMsg,
    StartMsg,
    StatusMsg,
    StopMsg,
)
from noobwire._core import pure
from noobwire.generations import REFERENCE


class RemoteFailure(Exception):
    """A module-level exception class, found again by name on the receiving side."""


class Nested:
    class InnerFailure(ValueError):
        """An exception class nested in a class (its qualname has a dot)."""


# Strings that MessagePack can hold: UTF-8, so no lone surrogates.
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20)

ints = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.integers(),  # big ones too
    st.sampled_from([-(2**63) - 1, 2**64, -(2**64), 2**200, -(2**200), 2**63, -(2**63)]),
)

fixed_offsets = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59, seconds=-59, microseconds=-999999),
        max_value=timedelta(hours=23, minutes=59, seconds=59, microseconds=999999),
    ),
)
datetimes = st.datetimes(timezones=st.one_of(st.none(), st.just(UTC), fixed_offsets))

numpy_dtypes = st.one_of(
    hnp.scalar_dtypes(),
    hnp.byte_string_dtypes(min_len=1, max_len=4),
    hnp.unicode_string_dtypes(min_len=1, max_len=4),
    st.sampled_from(
        [
            np.dtype(">i4"),
            np.dtype(">f8"),
            np.dtype([("a", "<i4"), ("b", "<f8", (2,))]),
            np.dtype({"names": ["x", "y"], "formats": ["u1", ">i2"], "offsets": [0, 2]}),
            np.dtype([("outer", [("inner", "<u2")])]),
        ]
    ),
)


@st.composite
def numpy_arrays(draw: st.DrawFn) -> Any:
    array = draw(
        hnp.arrays(
            numpy_dtypes,
            hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
        )
    )
    layout = draw(st.sampled_from(["C", "F", "strided", "transposed"]))
    if layout == "F":
        return np.asfortranarray(array)
    if layout == "strided" and array.ndim:
        return array[::2]
    if layout == "transposed":
        return array.T
    return array


numpy_scalars = hnp.from_dtype(np.dtype("f8")).map(np.float64) | st.one_of(
    hnp.from_dtype(np.dtype("i2")).map(np.int16),
    hnp.from_dtype(np.dtype("?")).map(np.bool_),
    hnp.from_dtype(np.dtype("M8[ms]")).map(np.datetime64),
    hnp.from_dtype(np.dtype("<U3")).map(np.str_),
)

exception_classes = st.sampled_from(
    [ValueError, KeyError, RuntimeError, ZeroDivisionError, RemoteFailure, Nested.InnerFailure]
)

# Values with no MessagePack form: they travel pickled (the default pickle policy).
pickled_objects = st.one_of(
    st.timedeltas(),
    st.dates(),
    st.decimals(allow_nan=False),
    st.fractions(),
    st.complex_numbers(allow_nan=False),
    st.sampled_from([NodeStatus.ready, MetaSignal.NoEvent.__class__]),
)

hashables = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        ints,
        st.floats(allow_nan=False),
        texts,
        st.binary(max_size=10),
        datetimes,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3).map(tuple), st.frozensets(inner, max_size=3)),
    max_leaves=6,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    ints,
    st.floats(),
    texts,
    st.binary(max_size=20),
    datetimes,
    st.just(MetaSignal.NoEvent),
    exception_classes,
)

# Values the reference JSON codec carries without loss (JSON types, str keys, finite floats).
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        texts,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=10,
)


def values(with_numpy: bool = True, with_pickle: bool = True) -> st.SearchStrategy[Any]:
    """Any value an event may carry, nested freely."""
    leaves = scalars
    if with_numpy:
        leaves = leaves | numpy_arrays() | numpy_scalars
    if with_pickle:
        leaves = leaves | pickled_objects
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.lists(inner, max_size=4).map(tuple),
            st.dictionaries(hashables, inner, max_size=4),
            st.sets(hashables, max_size=4),
            st.frozensets(hashables, max_size=4),
        ),
        max_leaves=12,
    )


def _not_reference_pickle(value: Any) -> bool:
    # The reference unpickles any event value that is a str starting with "pck__".
    return not (isinstance(value, str) and value.startswith("pck__"))


def events(value_strategy: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {
            "id": ints,
            "timestamp": datetimes,
            "node_id": texts,
            "signal": texts,
            "epoch": ints,
            "value": (values() if value_strategy is None else value_strategy).filter(_not_reference_pickle),
        }
    )


def no_event() -> st.SearchStrategy[dict]:
    """A meta event carrying the NoEvent sentinel."""
    return events(st.just(MetaSignal.NoEvent)).map(lambda e: {**e, "signal": "__META__"})


identify_values = st.fixed_dictionaries(
    {
        "node_id": texts,
        "outbox": texts,
        "status": st.sampled_from(list(NodeStatus)),
        "signals": st.none() | st.lists(texts, max_size=3),
        "slots": st.none() | st.lists(texts, max_size=3),
    }
)


def _message(cls: type[Message], value: st.SearchStrategy[Any]) -> st.SearchStrategy[Message]:
    return st.builds(
        lambda node_id, timestamp, val: cls(node_id=node_id, timestamp=timestamp, value=val),
        texts,
        datetimes,
        value,
    )


def messages_by_type(
    event_values: st.SearchStrategy[Any] | None = None,
) -> dict[str, st.SearchStrategy[Message]]:
    """A strategy per message type."""
    any_value = values() if event_values is None else event_values
    return {
        "announce": _message(
            AnnounceMsg,
            st.fixed_dictionaries(
                {"inbox": texts, "nodes": st.dictionaries(texts, identify_values, max_size=3)}
            ),
        ),
        "identify": _message(IdentifyMsg, identify_values),
        "process": _message(
            ProcessMsg,
            st.fixed_dictionaries(
                {
                    "epoch": ints,
                    "input": st.none() | st.dictionaries(hashables, any_value, max_size=4),
                }
            ),
        ),
        "init": _message(InitMsg, st.none()),
        "deinit": _message(DeinitMsg, st.none()),
        "ping": _message(PingMsg, st.none()),
        "start": _message(StartMsg, st.none() | ints),
        "status": _message(StatusMsg, st.sampled_from(list(NodeStatus))),
        "stop": _message(StopMsg, st.none()),
        "event": _message(EventMsg, st.lists(events(event_values) | no_event(), max_size=5)),
        "error": _message(
            ErrorMsg,
            st.fixed_dictionaries(
                {
                    "err_type": exception_classes,
                    "err_args": st.lists(any_value, max_size=3).map(tuple),
                    "traceback": texts,
                }
            ),
        ),
    }


def messages(event_values: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Message]:
    """Any message of any of the eleven types."""
    return st.one_of(*messages_by_type(event_values).values())


# --- frames with right and wrong fields ---------------------------------------------------------------

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
    """Reference frames (version 1) whose fields are mostly of the right type, now and then not."""
    code = draw(st.integers(0, len(REFERENCE.messages) - 1))
    value = draw(field(VALUES[REFERENCE.type_names[code]]))
    header = [REFERENCE.version, code, 0, draw(field(texts)), draw(field(datetimes))]
    return pure.pack_value([*header, value], allow_pickle=True)
