"""``noobwire inspect``: every golden vector decodes and shows its message; bad input fails cleanly."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgpack
import pytest

import noobwire
import noobwire.bench.workloads
from helpers import V2_VECTORS, VECTOR_DIR
from noobwire import DecodeError
from noobwire.cli import main
from noobwire.cli.inspect import format_message
from noobwire.generations import NOOB_1000, NOOB_1003
from tagged import message_from_tagged

VECTORS = {path.stem: json.loads(path.read_text()) for path in sorted(VECTOR_DIR.glob("*.json"))}
V1_KIND = "noobwire MessagePack, wire-format version 1 (the reference schema)"
V2_KIND = "noobwire MessagePack, wire-format version 2 (noob 1003.x)"


def _frame(name: str) -> bytes:
    return bytes.fromhex(VECTORS[name]["hex"])


def _inspect(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, *options: str
) -> tuple[int, str, str]:
    path = tmp_path / "frame"
    path.write_bytes(data)
    status = main(["inspect", str(path), *options])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_every_vector_is_shown_as_its_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    frame = _frame(name)
    expected = message_from_tagged(VECTORS[name]["message"])
    status, out, err = _inspect(capsys, tmp_path, frame, "--allow-pickle")
    assert (status, err) == (0, "")
    assert out == format_message(expected, f"{len(frame):,} bytes of {V1_KIND}") + "\n"
    assert out.startswith(f"{expected.type_} message ({type(expected).__name__}), ")
    if expected.type_ == "event":  # each event on a line of its own
        assert [line.split("]")[0] for line in out.splitlines()[4:]] == [
            f"    [{i}" for i in range(len(expected.value))
        ]


def test_hex_from_a_file_and_from_standard_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = _frame("msg_event_e4")
    status, from_file, _ = _inspect(capsys, tmp_path, b"  " + frame.hex(" ").encode() + b"\n", "--hex")
    assert status == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(frame)))
    assert main(["inspect", "-"]) == 0
    assert capsys.readouterr().out == from_file
    lines = from_file.splitlines()
    assert lines[0] == f"event message (EventMsg), 160 bytes of {V1_KIND}"
    assert lines[1:4] == [
        "  node_id    cam",
        "  timestamp  2026-01-01T12:00:00.123456+00:00",
        "  value      4 events",
    ]
    assert (
        lines[4]
        == "    [0] id=0 epoch=42 node_id=cam signal=frame_index at 2026-01-01T12:00:00.123456+00:00: 1234"
    )
    assert lines[7].endswith("signal=coords at 2026-01-01T12:00:00.123456+00:00: [1.0, 2.0, 3.0]")


def test_arrays_show_dtype_shape_and_first_values(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    msg = noobwire.EventMsg(
        node_id="cam",
        value=[
            {
                "id": 1,
                "timestamp": noobwire.messages.datetime(2026, 1, 1),
                "node_id": "cam",
                "signal": "frame",
                "epoch": 3,
                "value": {"image": np.arange(1024 * 16, dtype=np.uint16).reshape(128, 128)},
            }
        ],
    )
    _, out, _ = _inspect(capsys, tmp_path, noobwire.encode(msg))
    assert out.splitlines()[-1].endswith(
        ": {'image': ndarray uint16 shape (128, 128) C-order [0, 1, 2, 3, 4, 5, 6, 7, ...]}"
    )


def test_a_legacy_json_frame(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    expected = message_from_tagged(VECTORS["msg_event_e4"]["message"])
    legacy = expected.to_json_bytes()
    status, out, _ = _inspect(capsys, tmp_path, legacy)
    assert status == 0
    assert out.splitlines()[0] == f"event message (EventMsg), {len(legacy)} bytes of the reference's JSON"
    assert out.splitlines()[1:] == format_message(expected).splitlines()[1:]


@pytest.mark.parametrize("name", ["msg_event_e4", "msg_status", "msg_process", "msg_announce", "value_tuple"])
def test_json_prints_the_reference_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    status, out, _ = _inspect(capsys, tmp_path, _frame(name), "--json")
    assert status == 0
    assert out == message_from_tagged(VECTORS[name]["message"]).to_json_bytes().decode() + "\n"


def test_json_of_a_message_the_reference_cannot_write(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, err = _inspect(capsys, tmp_path, _frame("value_bytes"), "--json")  # bytes that are not UTF-8
    assert (status, out) == (1, "")
    assert err.startswith("noobwire inspect: the message cannot be written as the reference's JSON")


def test_the_first_line_names_the_frames_wire_format_version(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The version decides how a frame is read (and which noob must be installed): the first line says
    it, and the schema it is of."""
    status, out, _ = _inspect(capsys, tmp_path, _frame("msg_status"))
    assert status == 0
    assert out.splitlines()[0].endswith(", wire-format version 1 (the reference schema)")
    status, out, _ = _inspect(capsys, tmp_path, bytes.fromhex(V2_VECTORS["msg_status"]["hex"]))
    assert status == 0
    assert out.splitlines()[0].endswith(", wire-format version 2 (noob 1003.x)")


def test_a_bad_frame_gives_the_decode_error_and_its_offset(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    frame = _frame("msg_event_e4")
    for cut in (len(frame) - 1, 30, 7):
        with pytest.raises(DecodeError) as caught:
            noobwire.decode(frame[:cut])
        assert caught.value.offset is not None
        status, out, err = _inspect(capsys, tmp_path, frame[:cut])
        assert (status, out) == (1, "")
        first, second = err.splitlines()
        prefix = f"noobwire inspect: cannot decode the frame ({cut} bytes, read as {V1_KIND})"
        assert first == f"{prefix}: {caught.value}"
        assert f"(at offset {caught.value.offset})" in first
        assert second.startswith(f"  at byte {caught.value.offset}: ")


@pytest.mark.parametrize("name", sorted(V2_VECTORS))
def test_a_frame_of_noob_1003_is_shown_as_noobs_own_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    frame = bytes.fromhex(V2_VECTORS[name]["hex"])
    expected = message_from_tagged(V2_VECTORS[name]["message"], NOOB_1003)
    status, out, err = _inspect(capsys, tmp_path, frame, "--allow-pickle")
    assert (status, err) == (0, "")
    assert out == format_message(expected, f"{len(frame):,} bytes of {V2_KIND}") + "\n"
    assert type(expected).__module__ == "noob.network.message"


def test_a_frame_of_noob_1003_without_noob(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "noob.network.message", None)  # import fails as if it were absent
    status, out, err = _inspect(capsys, tmp_path, bytes.fromhex(V2_VECTORS["msg_stop"]["hex"]))
    assert (status, out) == (1, "")
    assert err.startswith(
        "noobwire inspect: a frame of wire-format version 2 (noob 1003.x) decodes into noob's classes, "
        "and noob is not installed here"
    )


def test_a_frame_of_noob_1000_with_noob_1003_installed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    frame = bytearray.fromhex(V2_VECTORS["msg_stop"]["hex"])
    frame[1] = NOOB_1000.version
    status, out, err = _inspect(capsys, tmp_path, bytes(frame))
    assert (status, out) == (1, "")
    assert err == (
        "noobwire inspect: a frame of wire-format version 4 (noob 1000.x to 1001.x) decodes into noob's "
        "classes, and the noob installed here has noob 1003.x's\n"
    )


def test_an_unknown_version(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    frame = bytearray(_frame("msg_stop"))
    frame[1] = 9
    status, _, err = _inspect(capsys, tmp_path, bytes(frame))
    assert status == 1
    assert "unsupported wire format version 9: this codec reads version 1 (the reference schema" in err
    assert "  at byte 1: 96 [09] 08 00" in err


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (b"", (), "empty frame"),
        (b"\xc1", (), "cannot decode the frame (1 bytes, read as noobwire MessagePack)"),
        (b'{"type": "status"', (), "read as the reference's JSON): invalid JSON frame"),
        (b'{"type": "nope", "node_id": "x"}', (), "JSON frame breaks the schema"),
        (b"96 01 zz", ("--hex",), "is not hex text"),
    ],
)
def test_bad_input_fails_cleanly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, options: tuple[str, ...], message: str
) -> None:
    status, out, err = _inspect(capsys, tmp_path, data, *options)
    assert (status, out) == (1, "")
    assert err.startswith("noobwire inspect: ")
    assert message in err


def test_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["inspect", str(tmp_path / "absent")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_pickles_are_refused_unless_allowed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    error = noobwire.ErrorMsg(node_id="n", value={"err_type": KeyError, "err_args": ("k",), "traceback": ""})
    for frame in (_frame("value_pickle"), error.to_json_bytes()):  # the reference pickles an ErrorMsg's value
        status, out, err = _inspect(capsys, tmp_path, frame)
        assert (status, out) == (1, "")
        assert "pass --allow-pickle" in err
        assert _inspect(capsys, tmp_path, frame, "--allow-pickle")[0] == 0
    assert _inspect(capsys, tmp_path, error.to_bytes())[0] == 0  # noobwire writes the class by name


# --- the frames of a zero-copy message -------------------------------------------------------------


def _zero_copy_frames() -> tuple[noobwire.EventMsg, list[bytes]]:
    """An event message with two arrays large enough to travel out of band, and its frames as bytes."""
    import numpy as np

    events = [
        {
            "id": index,
            "timestamp": noobwire.bench.workloads.TIMESTAMP,
            "node_id": "cam",
            "signal": "frame",
            "epoch": 7,
            "value": np.full((256, 512), index, dtype=np.uint8),
        }
        for index in range(2)
    ]
    msg = noobwire.EventMsg(node_id="cam", value=events, timestamp=noobwire.bench.workloads.TIMESTAMP)
    frames = [bytes(frame) for frame in noobwire.encode_frames(msg)]
    assert len(frames) == 3  # two buffers, then the header
    return msg, frames


def _capture(frames: list[bytes]) -> bytes:
    """A binary capture file as the docs write it: each frame preceded by its length (4 bytes, big-endian)."""
    return b"".join(len(frame).to_bytes(4, "big") + frame for frame in frames)


def _expected(msg: noobwire.EventMsg, frames: list[bytes]) -> str:
    buffers = sum(map(len, frames[:-1]))
    header = len(frames[-1])
    source = f"3 frames: a header of {header:,} bytes of {V1_KIND} and 2 more of {buffers:,} bytes"
    return format_message(msg, source) + "\n"


def test_the_frames_of_a_message_as_one_file_each(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    msg, frames = _zero_copy_frames()
    paths = []
    for index, frame in enumerate(frames):
        paths.append(tmp_path / f"frame{index}.bin")
        paths[-1].write_bytes(frame)
    assert main(["inspect", *map(str, paths)]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (_expected(msg, frames), "")
    assert "ndarray uint8 shape (256, 512) C-order [1, 1, 1, 1, 1, 1, 1, 1, ...]" in out


def test_the_frames_of_a_message_in_one_capture_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    msg, frames = _zero_copy_frames()
    status, out, err = _inspect(capsys, tmp_path, _capture(frames), "--frames")
    assert (status, out, err) == (0, _expected(msg, frames), "")
    hex_capture = "\n".join(frame.hex() for frame in frames) + "\n\n"
    status, out, err = _inspect(capsys, tmp_path, hex_capture.encode(), "--frames", "--hex")
    assert (status, out, err) == (0, _expected(msg, frames), "")


def test_a_capture_of_one_frame_is_that_frame(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    frame = _frame("msg_event_e4")
    status, out, _ = _inspect(capsys, tmp_path, _capture([frame]), "--frames")
    assert status == 0
    assert out.startswith(f"event message (EventMsg), 160 bytes of {V1_KIND}")


def test_the_frames_as_the_reference_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    msg, frames = _zero_copy_frames()
    status, out, _ = _inspect(capsys, tmp_path, _capture(frames), "--frames", "--json", "--allow-pickle")
    assert status == 0
    # The reference pickles each array into a str, which --json shortens to its start and its length.
    full = json.loads(noobwire.encode_json(msg))
    shown = json.loads(out)
    assert shown["value"][1]["id"] == full["value"][1]["id"]
    pickled = full["value"][1]["value"]
    assert shown["value"][1]["value"].startswith(pickled[:50])
    assert shown["value"][1]["value"].endswith(f"<str of {len(pickled):,} characters>")


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (
            lambda frames: frames[-1:],
            "the header counts 2 buffer frames before it, but only 0 frames precede it",
        ),
        (lambda frames: [frames[-1], *frames[:-1]], "cannot decode the 3 frames (the last, the header, "),
        (lambda frames: [frames[0][:-1], *frames[1:]], "cannot decode the 3 frames"),
    ],
    ids=["no buffers", "header first", "a buffer cut short"],
)
def test_frames_that_do_not_make_a_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, spoil: Any, message: str
) -> None:
    _, frames = _zero_copy_frames()
    spoiled = spoil(frames)
    with pytest.raises(DecodeError) as caught:
        noobwire.decode_frames(spoiled)
    status, out, err = _inspect(capsys, tmp_path, _capture(spoiled), "--frames")
    assert (status, out) == (1, "")
    assert err.startswith("noobwire inspect: ")
    assert message in err
    assert str(caught.value) in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("capture", "options", "message"),
    [
        (b"\x00\x00\x01", ("--frames",), "3 bytes at offset 0 are too few for the length of frame 0"),
        (b"\x00\x00\x00\x10abc", ("--frames",), "frame 0 declares 16 bytes at offset 0, but only 3 follow"),
        (
            _capture([b"\x01"]) + b"\x00\x00\x00\x09\x96",
            ("--frames",),
            "frame 1 declares 9 bytes at offset 5",
        ),
        (b"", ("--frames",), "holds no frame"),
        (b"9601\nnot hex\n", ("--frames", "--hex"), "line 2 is not hex text"),
    ],
    ids=["short length", "long frame", "second frame", "empty", "bad hex line"],
)
def test_a_bad_capture_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, capture: bytes, options: tuple[str, ...], message: str
) -> None:
    status, out, err = _inspect(capsys, tmp_path, capture, *options)
    assert (status, out) == (1, "")
    assert err.startswith("noobwire inspect: ")
    assert message in err


def test_frames_reads_one_file_and_standard_input_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "capture"
    path.write_bytes(_capture([_frame("msg_stop")]))
    assert main(["inspect", "--frames", str(path), str(path)]) == 1
    assert "--frames reads one capture file, not 2" in capsys.readouterr().err
    assert main(["inspect", "-", "-"]) == 1
    assert "standard input (-) can be read only once" in capsys.readouterr().err


def test_a_bad_capture_from_the_shell_has_no_traceback(tmp_path: Path) -> None:
    _, frames = _zero_copy_frames()
    path = tmp_path / "capture"
    path.write_bytes(_capture(frames[-1:]))
    done = subprocess.run(
        [sys.executable, "-m", "noobwire", "inspect", "--frames", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith("noobwire inspect: cannot decode the frame (")
    assert "this is the header of a zero-copy message: give its buffer frames too" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_spec_frame_is_shown_without_importing_what_its_nodes_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # noob's NodeSpecification.nodeinfo (a computed field, in its repr and JSON) imports a node's type.
    pytest.importorskip("noob.tube", reason="the test extra installs noob 1003")
    module = tmp_path / "planted_by_the_sender.py"
    module.write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    items = msgpack.unpackb(bytes.fromhex(V2_VECTORS["msg_spec"]["hex"]), raw=False, timestamp=0)
    spec = json.loads(items[5])
    spec["nodes"] = {"x": {"id": "x", "type": "planted_by_the_sender.run"}}  # (its id, as noob writes it)
    items[5] = json.dumps(spec)
    frame = msgpack.packb(items)
    for options in ((), ("--json",)):
        status, out, err = _inspect(capsys, tmp_path, frame, *options)
        assert status == 0, err
        assert "planted_by_the_sender.run" in out
        assert not (tmp_path / "imported").exists(), f"inspect {' '.join(options)} imported the node's module"
