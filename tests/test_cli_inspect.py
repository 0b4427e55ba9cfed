"""``noobwire inspect``: every golden vector decodes and shows its message; bad input fails cleanly."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import noobwire
from noobwire import DecodeError
from noobwire.cli import main
from noobwire.cli_inspect import format_message
from tagged import message_from_tagged

VECTORS = {
    path.stem: json.loads(path.read_text())
    for path in sorted((Path(__file__).parent / "vectors").glob("*.json"))
}


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
    assert out == format_message(expected, f"{len(frame):,} bytes of noobwire MessagePack") + "\n"
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
    assert lines[0] == "event message (EventMsg), 160 bytes of noobwire MessagePack"
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
        prefix = f"noobwire inspect: cannot decode the frame ({cut} bytes, read as noobwire MessagePack)"
        assert first == f"{prefix}: {caught.value}"
        assert f"(at offset {caught.value.offset})" in first
        assert second.startswith(f"  at byte {caught.value.offset}: ")


def test_an_unknown_version(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    frame = bytearray(_frame("msg_stop"))
    frame[1] = 2
    status, _, err = _inspect(capsys, tmp_path, bytes(frame))
    assert status == 1
    assert "unsupported wire format version 2 (this noobwire reads version 1) (at offset 1)" in err
    assert "  at byte 1: 96 [02] 08 00" in err


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
