"""The golden vectors: each frame decodes to its message, and the message encodes to the frame; each
rejected frame is refused."""

from __future__ import annotations

import pytest

from helpers import REJECTED, VECTORS, assert_same
from noobwire import DecodeError, Options
from noobwire.codec import Backend
from tagged import message_from_tagged


def test_there_is_a_vector_per_message_type_and_value_kind() -> None:
    types = {vector["message"]["type"] for vector in VECTORS.values()}
    assert len(types) == 11
    assert sum(name.startswith("value_") for name in VECTORS) >= 20


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector_decodes_to_its_message(backend: Backend, name: str) -> None:
    vector = VECTORS[name]
    expected = message_from_tagged(vector["message"])
    decoded = backend.decode(bytes.fromhex(vector["hex"]))
    assert_same(expected, decoded)


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector_message_encodes_to_its_frame(backend: Backend, name: str) -> None:
    vector = VECTORS[name]
    frame = bytes.fromhex(vector["hex"])
    assert backend.encode(message_from_tagged(vector["message"])).hex() == vector["hex"]
    assert backend.encode(backend.decode(frame)) == frame


@pytest.mark.parametrize("allow_pickle", [True, False], ids=["pickle-on", "pickle-off"])
@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejected_vector_is_refused(backend: Backend, name: str, allow_pickle: bool) -> None:
    vector = REJECTED[name]
    assert vector["error"] == "DecodeError"
    with pytest.raises(DecodeError):
        backend.decode(bytes.fromhex(vector["hex"]), options=Options(allow_pickle=allow_pickle))
