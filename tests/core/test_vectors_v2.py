"""The golden vectors of wire-format version 2 (noob 1003.x): each frame decodes into noob's own message,
and that message encodes to the frame, on both backends; each rejected frame is refused; every truncation
and every single-byte change decodes or is refused."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from helpers import V2_REJECTED, V2_VECTORS, assert_same, decodes_or_refuses
from noobwire import Codec, DecodeError, Options
from noobwire.codec import Backend
from noobwire.generations import NOOB_1003
from tagged import message_from_tagged

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # noob warns about its runtime directory on import
    noob_message = pytest.importorskip("noob.network.message", reason="the test extra installs noob 1003")
    from noob.event import MetaSignal

if "spec" not in noob_message.MessageType.__members__:
    pytest.skip("the installed noob is not 1003.x", allow_module_level=True)

FRAMES = {name: bytes.fromhex(vector["hex"]) for name, vector in V2_VECTORS.items()}


def _same_message(expected: Any, actual: Any) -> None:
    assert type(actual) is type(expected)
    assert actual.type_ == expected.type_
    assert actual.node_id == expected.node_id
    assert_same(expected.timestamp, actual.timestamp)
    if hasattr(expected.value, "model_dump"):
        assert actual.value == expected.value
        assert actual.value.model_dump_json() == expected.value.model_dump_json()
    else:
        assert_same(expected.value, actual.value)


def test_there_is_a_vector_per_message_type_of_noob_1003() -> None:
    types = {vector["message"]["type"] for vector in V2_VECTORS.values()}
    assert types >= {"event", "process", "epoch_ended", "identify", "announce", "spec", "error"}
    assert len(V2_REJECTED) >= 10


@pytest.mark.parametrize("name", sorted(V2_VECTORS))
def test_vector_decodes_to_noobs_own_message(backend: Backend, name: str) -> None:
    expected = message_from_tagged(V2_VECTORS[name]["message"], NOOB_1003)
    decoded = backend.decode(FRAMES[name], NOOB_1003)
    _same_message(expected, decoded)


@pytest.mark.parametrize("name", sorted(V2_VECTORS))
def test_vector_message_encodes_to_its_frame(backend: Backend, name: str) -> None:
    msg = message_from_tagged(V2_VECTORS[name]["message"], NOOB_1003)
    assert backend.encode(msg, NOOB_1003, Options()).hex() == V2_VECTORS[name]["hex"]
    assert backend.encode(backend.decode(FRAMES[name], NOOB_1003), NOOB_1003, Options()) == FRAMES[name]


def test_meta_signals_come_back_as_themselves(backend: Backend) -> None:
    for name, member in (("value_noevent", MetaSignal.NoEvent), ("value_exhausted", MetaSignal.Exhausted)):
        assert backend.decode(FRAMES[name], NOOB_1003).value[0]["value"] is member


@pytest.mark.parametrize("allow_pickle", [True, False], ids=["pickle-on", "pickle-off"])
@pytest.mark.parametrize("name", sorted(V2_REJECTED))
def test_rejected_vector_is_refused(backend: Backend, name: str, allow_pickle: bool) -> None:
    codec = Codec(generation=NOOB_1003, backend=backend.name, allow_pickle=allow_pickle)
    with pytest.raises(DecodeError):
        codec.decode(bytes.fromhex(V2_REJECTED[name]["hex"]))


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_every_truncation_is_refused(backend: Backend, name: str) -> None:
    frame = FRAMES[name]
    for end in range(len(frame)):
        with pytest.raises(DecodeError):
            backend.decode(frame[:end], NOOB_1003)


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_every_single_byte_change_decodes_or_is_refused(backend: Backend, name: str) -> None:
    frame = FRAMES[name]
    mutated = bytearray(frame)
    for pos in range(len(frame)):
        for byte in range(256):
            if byte == frame[pos]:
                continue
            mutated[pos] = byte
            outcome = decodes_or_refuses(lambda data: backend.decode(data, NOOB_1003), bytes(mutated))
            assert not isinstance(outcome, DecodeError) or str(outcome), "a DecodeError says what is wrong"
        mutated[pos] = frame[pos]
