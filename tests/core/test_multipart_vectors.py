"""The golden multi-frame vectors: the frames decode to the message, the message encodes to the frames,
and no change to a frame makes a decoder do anything but decode or refuse."""

from __future__ import annotations

import json

import pytest

from helpers import VECTOR_DIR, assert_same, decodes_or_refuses
from noobwire import DecodeError, Message
from noobwire.multipart import FrameCodec
from tagged import message_from_tagged

MULTIPART_DIR = VECTOR_DIR / "multipart"
VECTORS = {path.stem: json.loads(path.read_text()) for path in sorted(MULTIPART_DIR.glob("*.json"))}


def frames_of(name: str) -> list[bytes]:
    return [bytes.fromhex(frame) for frame in VECTORS[name]["frames"]]


def test_there_are_vectors_with_each_kind_of_reference() -> None:
    headers = [frames_of(name)[-1] for name in VECTORS]
    assert any(b"\x10" in header for header in headers), "EXT_BUFFER_NDARRAY"
    assert any(b"\xd4\x11" in header for header in headers), "EXT_BUFFER_BYTES"
    assert all(len(vector["frames"]) > 1 for vector in VECTORS.values())


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector_frames_decode_to_the_message(frame_codec: FrameCodec, name: str) -> None:
    expected = message_from_tagged(VECTORS[name]["message"])
    assert_same(expected, frame_codec.decode_frames(frames_of(name)))
    envelope, decoded = frame_codec.decode_multipart([b"topic", *frames_of(name)])
    assert envelope == [b"topic"]
    assert_same(expected, decoded)


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_vector_message_encodes_to_the_frames(frame_codec: FrameCodec, name: str) -> None:
    vector = VECTORS[name]
    frames = frame_codec.encode_frames(message_from_tagged(vector["message"]), threshold=vector["threshold"])
    assert [bytes(frame).hex() for frame in frames] == vector["frames"]


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_every_truncation_of_the_header_is_refused(frame_codec: FrameCodec, name: str) -> None:
    *buffers, header = frames_of(name)
    for end in range(len(header)):
        with pytest.raises(DecodeError):
            frame_codec.decode_frames([*buffers, header[:end]])


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_every_byte_change_of_the_header_decodes_or_is_refused(frame_codec: FrameCodec, name: str) -> None:
    *buffers, header = frames_of(name)
    for pos in range(len(header)):
        for byte in range(256):
            if byte != header[pos]:
                changed = header[:pos] + bytes([byte]) + header[pos + 1 :]
                decodes_or_refuses(frame_codec.decode_frames, [*buffers, changed])


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_every_truncation_or_extension_of_a_buffer_decodes_or_is_refused(
    frame_codec: FrameCodec, name: str
) -> None:
    *buffers, header = frames_of(name)
    for index, buffer in enumerate(buffers):
        for changed in [buffer[:end] for end in range(len(buffer))] + [buffer + b"\x00", buffer * 2]:
            given = [*buffers[:index], changed, *buffers[index + 1 :], header]
            result = decodes_or_refuses(frame_codec.decode_frames, given)
            if isinstance(result, Message):  # a bytes value may change length: it is what was given
                tagged = json.dumps(VECTORS[name]["message"])
                assert f'"$bytes": "{buffer.hex()}"' in tagged, "only a bytes buffer may change length"
                expected = tagged.replace(f'"$bytes": "{buffer.hex()}"', f'"$bytes": "{changed.hex()}"')
                assert_same(message_from_tagged(json.loads(expected)), result)
