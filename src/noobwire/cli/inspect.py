"""``noobwire inspect``: decode one captured message (noobwire MessagePack or the reference's JSON), show it.

A message is one frame, or the several frames of a zero-copy message (``encode_frames``: the buffers,
then the header), given as one file each or as one capture file that holds them all (see
:func:`read_capture`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import reprlib
import struct
import sys
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from noobwire import wire
from noobwire._core.extensions import PICKLE_OFF
from noobwire._core.framing import is_json
from noobwire._core.legacy_json import encode_json
from noobwire.codec import Codec
from noobwire.errors import DecodeError, EncodeError, describe
from noobwire.generations import REFERENCE, by_version
from noobwire.layout import Generation
from noobwire.messages import Message
from noobwire.noob.compat import recognize

__all__ = [
    "CAPTURE_LENGTH",
    "DESCRIPTION",
    "EXAMPLES",
    "add_arguments",
    "describe_frame",
    "describe_frames",
    "format_message",
    "frame_generation",
    "read_capture",
    "read_frame",
    "run",
]

CAPTURE_LENGTH = struct.Struct(">I")
"""In a binary capture file (``--frames``), each frame is preceded by its length: 4 bytes, big-endian."""

EXAMPLES = """\
examples:
  noobwire inspect frame.bin          a frame saved from a socket: open("frame.bin", "wb").write(frames[-1])
  noobwire inspect --hex frame.hex    the same frame written as hex text
  noobwire inspect --json frame.bin   the message as JSON, what an unpatched noob of its generation sends
  echo 96010700a363616dd7ff1d6f2800695661c0a57265616479 | noobwire inspect --hex -

a zero-copy message (noobwire.encode_frames: the buffers first, the header last):
  noobwire inspect buffer0.bin buffer1.bin header.bin     one file per frame, in that order
  noobwire inspect --frames capture.bin                   one file: each frame preceded by its length
                                                          (4 bytes, big-endian)
  noobwire inspect --frames --hex capture.hex             one file: the hex of each frame, one per line
"""


class InspectError(Exception):
    """Input that ``inspect`` cannot show: unreadable, not hex, or not a valid frame."""


DESCRIPTION = """\
Decode one frame (noobwire MessagePack or the reference's JSON: the first byte tells
them apart), or the frames of one zero-copy message, and print the message: its type, node_id
and timestamp, each event on a line, arrays as dtype, shape and first values. Frames that do
not decode give the error, with the byte offset where it was found, and exit status 1.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's arguments on its ``parser``."""
    parser.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        help="the file that holds the frame, or - for standard input; several files are the frames of one "
        "message, in the order encode_frames returns them (the buffers, then the header)",
    )
    parser.add_argument("--hex", action="store_true", help="the input is hex text (whitespace is ignored)")
    parser.add_argument(
        "--frames",
        action="store_true",
        help="FILE holds every frame of one message, in the order encode_frames returns them: each frame "
        "preceded by its length (4 bytes, big-endian), or with --hex the hex of each frame on a line",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the message as JSON: the reference's, or the installed noob's own for a frame of its "
        "generation (what an unpatched noob sends)",
    )
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="decode pickled values (refused by default: unpickling runs code chosen by the frame's writer)",
    )


def run(args: argparse.Namespace) -> int:
    """Carry out ``noobwire inspect``; returns the exit status."""
    try:
        frames = _read_message(args.files, hex_input=args.hex, capture=args.frames)
        if len(frames) == 1:
            text = describe_frame(frames[0], as_json=args.json, allow_pickle=args.allow_pickle)
        else:
            text = describe_frames(frames, as_json=args.json, allow_pickle=args.allow_pickle)
    except InspectError as exc:
        print(f"noobwire inspect: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a last resort: a message it cannot show is a bug to report, not a traceback
        print(
            f"noobwire inspect: the frame decodes, but showing it failed ({type(exc).__name__}: "
            f"{describe(exc)}); please report it",
            file=sys.stderr,
        )
        return 1
    print(text)
    return 0


def _read_message(sources: list[str], hex_input: bool, capture: bool) -> list[bytes]:
    """The frames of the message in ``sources``: one file per frame, or one capture file."""
    if sources.count("-") > 1:
        raise InspectError("standard input (-) can be read only once")
    if capture:
        if len(sources) != 1:
            raise InspectError(f"--frames reads one capture file, not {len(sources)}")
        return read_capture(sources[0], hex_input=hex_input)
    return [read_frame(source, hex_input=hex_input) for source in sources]


def _read_bytes(source: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise InspectError(f"cannot read {source}: {exc.strerror or exc}") from None


def _from_hex(text: str, source: str) -> bytes:
    try:
        return bytes.fromhex("".join(text.split()).removeprefix("0x"))
    except ValueError as exc:
        raise InspectError(f"{source} is not hex text ({exc})") from None


def read_frame(source: str, hex_input: bool = False) -> bytes:
    """The bytes of the frame in file ``source`` (``-``: standard input), read as hex text if asked."""
    data = _read_bytes(source)
    if not hex_input:
        return data
    return _from_hex(data.decode("ascii", errors="replace"), source)


def read_capture(source: str, hex_input: bool = False) -> list[bytes]:
    """The frames of one message in the capture file ``source`` (``-``: standard input).

    A binary capture is the frames one after the other, each preceded by its length as 4 bytes,
    big-endian (:data:`CAPTURE_LENGTH`); a hex capture (``hex_input``) has the hex of each frame on a
    line of its own, blank lines ignored. Raises :class:`InspectError` for a capture that does not
    hold whole frames.
    """
    data = _read_bytes(source)
    if hex_input:
        lines = data.decode("ascii", errors="replace").splitlines()
        frames = [
            _from_hex(line, f"{source} line {number}") for number, line in enumerate(lines, 1) if line.strip()
        ]
    else:
        frames = _split_capture(data, source)
    if not frames:
        raise InspectError(f"{source} holds no frame")
    return frames


def _split_capture(data: bytes, source: str) -> list[bytes]:
    frames: list[bytes] = []
    position = 0
    while position < len(data):
        if len(data) - position < CAPTURE_LENGTH.size:
            raise InspectError(
                f"{source} is not a capture of length-prefixed frames: {len(data) - position} bytes at "
                f"offset {position} are too few for the length of frame {len(frames)} "
                f"({CAPTURE_LENGTH.size} bytes, big-endian)"
            )
        (length,) = CAPTURE_LENGTH.unpack_from(data, position)
        position += CAPTURE_LENGTH.size
        if length > len(data) - position:
            raise InspectError(
                f"{source} is not a capture of length-prefixed frames: frame {len(frames)} declares "
                f"{length:,} bytes at offset {position - CAPTURE_LENGTH.size}, but only "
                f"{len(data) - position:,} follow"
            )
        frames.append(data[position : position + length])
        position += length
    return frames


def describe_frame(frame: bytes, as_json: bool = False, allow_pickle: bool = False) -> str:
    """The text ``inspect`` prints for a frame. Raises :class:`InspectError` if it does not decode."""
    msg = _decode([frame], allow_pickle)
    if as_json:
        return _as_json(msg)
    return format_message(msg, f"{len(frame):,} bytes of {_kind(frame)}")


def describe_frames(frames: list[bytes], as_json: bool = False, allow_pickle: bool = False) -> str:
    """The text ``inspect`` prints for the frames of one message (``decode_frames``: the buffers, then
    the header). Raises :class:`InspectError` if they do not decode."""
    msg = _decode(frames, allow_pickle)
    if as_json:
        return _as_json(msg)
    header, buffers = frames[-1], frames[:-1]
    return format_message(
        msg,
        f"{len(frames)} frames: a header of {len(header):,} bytes of {_kind(header)} "
        f"and {len(buffers)} more of {sum(map(len, buffers)):,} bytes",
    )


def _kind(frame: bytes) -> str:
    """What a frame is: the reference's JSON, or noobwire MessagePack of the wire-format version (and
    schema) its second byte names, where noobwire knows that version."""
    if frame and is_json(frame):
        return "the reference's JSON"
    version, generation = _written_as(frame)
    if generation is None:
        return "noobwire MessagePack"
    schema = "the reference schema" if generation is REFERENCE else generation.summary
    return f"noobwire MessagePack, wire-format version {version} ({schema})"


def _written_as(header: bytes) -> tuple[int | None, Generation | None]:
    """The wire-format version a MessagePack header frame carries (its second byte), and the generation
    of that version if noobwire knows it."""
    version = header[1] if len(header) > 1 and header[0] == wire.FRAME_ARRAY else None
    return version, (by_version(version) if version is not None else None)


def _decode(frames: list[bytes], allow_pickle: bool) -> Message:
    """The message of ``frames`` (one frame, or buffers then the header), or :class:`InspectError`."""
    generation = frame_generation(frames[-1])
    try:
        # With pickle off (the default here), no frame can unpickle or import anything.
        msg: Message = Codec(allow_pickle=allow_pickle).decode_frames(frames, generation)
        return msg
    except DecodeError as exc:
        _refuse_pickle(exc, allow_pickle)
        header = frames[-1]
        if len(frames) == 1:
            lines = [f"cannot decode the frame ({len(header):,} bytes, read as {_kind(header)}): {exc}"]
        else:
            lines = [
                f"cannot decode the {len(frames)} frames (the last, the header, {len(header):,} bytes, "
                f"read as {_kind(header)}): {exc}"
            ]
        if exc.offset is not None and header:
            lines.append(_hex_around(header, exc.offset))
        if len(frames) == 1 and "buffer frames before it" in exc.reason:
            lines.append(
                "  this is the header of a zero-copy message: give its buffer frames too, in the order "
                "encode_frames returns them (noobwire inspect --help)"
            )
        raise InspectError("\n".join(lines)) from None


def frame_generation(header: bytes) -> Generation:
    """The generation to read a header frame as: the one its wire-format version names, if noobwire
    knows it, else the reference's (whose decoder then says what is wrong). A noob generation needs
    that noob installed (its classes are what the frame decodes into): :class:`InspectError` if the
    noob installed here is missing or has another schema."""
    version, generation = _written_as(header)
    if generation is None or generation is REFERENCE:
        return REFERENCE
    needs = f"a frame of wire-format version {version} ({generation.summary}) decodes into noob's classes"
    try:
        module = importlib.import_module(generation.module)
    except ImportError as exc:
        raise InspectError(f"{needs}, and noob is not installed here ({exc})") from None
    found = recognize(module).generation
    if found is not generation:
        has = "another schema, that noobwire does not know" if found is None else found.summary + "'s"
        raise InspectError(f"{needs}, and the noob installed here has {has}") from None
    return generation


def _refuse_pickle(error: DecodeError, allow_pickle: bool) -> None:
    """Raise the advice to pass ``--allow-pickle`` when pickle off is what refused the frame."""
    if not allow_pickle and PICKLE_OFF in str(error):
        raise InspectError(
            f"{error}: the frame holds pickled values (or names an exception class outside the "
            "allow-list), and unpickling runs code chosen by whoever wrote the frame; "
            "pass --allow-pickle to decode it if you trust its source"
        ) from None


# Shown as sent: a frame's values are shown as they were sent, never with noob's computed fields.
# noob 1003's NodeSpecification.nodeinfo imports the module a node's ``type`` names and calls into it,
# so computing it (repr(), or a dump with computed fields) would run code chosen by whoever wrote the
# frame. Every dump here passes exclude_computed_fields=True, and no model is shown by its repr().


def _as_json(msg: Any) -> str:
    if not isinstance(msg, Message):  # noob's own class, of one of its generations: shown as sent
        return shorten_json(msg.model_dump_json(exclude_computed_fields=True))
    try:
        return shorten_json(encode_json(msg).decode("utf-8"))
    except EncodeError as exc:
        raise InspectError(f"the message cannot be written as the reference's JSON: {exc}") from None


MAX_JSON_STR = 200
"""Strings longer than this (a pickled array's base64 among them) are shortened in ``--json``."""
MAX_JSON_INT_DIGITS = 100
MAX_JSON_TEXT = 1_000_000
"""A JSON text longer than this that cannot be shortened value by value is cut at this length."""


def shorten_json(text: str) -> str:
    """The JSON ``text`` of a message as ``inspect --json`` prints it: as it is, or, if it holds strs
    longer than ``MAX_JSON_STR`` or ints of more than ``MAX_JSON_INT_DIGITS`` digits, with those
    shortened (a str keeps its start and says how long it was; an int becomes a str that says how many
    digits it has), written compactly as the reference writes it."""
    if len(text) <= MAX_JSON_STR:
        return text
    try:
        value = json.loads(text, parse_int=_json_int)
    except (ValueError, RecursionError):  # nested beyond what json can read back
        return _cut(text)
    shortened = _shortened(value)
    if shortened == value and not _holds_long_int(text):
        return text
    try:
        return json.dumps(shortened, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, RecursionError):
        return _cut(text)


class _LongInt(str):
    """A JSON int too long to print, held as the text that says so."""


def _json_int(digits: str) -> int | str:
    if len(digits.lstrip("-")) > MAX_JSON_INT_DIGITS:
        return _LongInt(f"<int of {len(digits.lstrip('-')):,} digits: {digits[:20]}...{digits[-20:]}>")
    return int(digits)


def _holds_long_int(text: str) -> bool:
    return re.search(f"[0-9]{{{MAX_JSON_INT_DIGITS + 1}}}", text) is not None


def _shortened(value: Any) -> Any:
    if isinstance(value, _LongInt):
        return str(value)
    if isinstance(value, str):
        if len(value) <= MAX_JSON_STR:
            return value
        return f"{value[: MAX_JSON_STR // 2]}... <str of {len(value):,} characters>"
    if isinstance(value, list):
        return [_shortened(item) for item in value]
    if isinstance(value, dict):
        return {key: _shortened(item) for key, item in value.items()}
    return value


def _cut(text: str) -> str:
    if len(text) <= MAX_JSON_TEXT:
        return text
    return f"{text[:MAX_JSON_TEXT]}... <{len(text) - MAX_JSON_TEXT:,} more characters>"


def _hex_around(frame: bytes, offset: int, width: int = 8) -> str:
    """The bytes around ``offset`` in hex, the one at ``offset`` in brackets."""
    start, end = max(0, offset - width), min(len(frame), offset + width + 1)
    cells = [
        f"[{byte:02x}]" if start + i == offset else f"{byte:02x}" for i, byte in enumerate(frame[start:end])
    ]
    if offset >= len(frame):
        cells.append("[end]")
    return (
        f"  at byte {offset}: {'... ' if start else ''}{' '.join(cells)}{' ...' if end < len(frame) else ''}"
    )


# --- showing a message ---------------------------------------------------------------------------------


class _ValueRepr(reprlib.Repr):
    """A short repr that shows arrays as dtype, shape and first values, and datetimes as ISO 8601."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 4
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdict = 8
        self.maxstring = 80
        self.maxother = 80

    def repr1(self, x: Any, level: int) -> str:
        if isinstance(x, Enum):  # MetaSignal.NoEvent, enum members that travelled pickled
            return f"{type(x).__name__}.{x.name}"
        return super().repr1(x, level)

    def repr_ndarray(self, x: Any, level: int) -> str:
        first = x.reshape(-1, order="A")[:8].tolist() if x.size else []
        values = ", ".join(map(repr, first)) + (", ..." if x.size > len(first) else "")
        order = "F" if x.flags.f_contiguous and not x.flags.c_contiguous else "C"
        return f"ndarray {x.dtype} shape {x.shape} {order}-order [{values}]"

    def repr_datetime(self, x: datetime, level: int) -> str:
        return x.isoformat()

    def repr_int(self, x: int, level: int) -> str:
        # repr() of an int of more than 4300 digits raises, and of thousands of digits is slow.
        if x.bit_length() <= _MAX_SHOWN_INT_BITS:
            return repr(x)
        digits = int(x.bit_length() * _LOG10_2) + 1
        return f"<int of about {digits:,} digits ({x.bit_length():,} bits)>"

    def repr_str(self, x: str, level: int) -> str:
        if len(x) <= self.maxstring:
            return repr(x)
        return f"{x[: self.maxstring]!r}... <str of {len(x):,} characters>"

    def repr_bytes(self, x: bytes, level: int) -> str:
        shown = x[:32].hex(" ")
        return f"bytes of {len(x):,}: {shown}{' ...' if len(x) > 32 else ''}"

    def repr_type(self, x: type, level: int) -> str:
        return f"{x.__module__}.{x.__qualname__}"

    # A set of mixed types cannot be sorted, and its iteration order varies: order it by type and repr.
    def repr_set(self, x: set[Any], level: int) -> str:
        if not x:
            return "set()"
        return self._repr_iterable(_ordered(x), level, "{", "}", self.maxset)  # type: ignore[attr-defined, no-any-return]

    def repr_frozenset(self, x: frozenset[Any], level: int) -> str:
        if not x:
            return "frozenset()"
        return self._repr_iterable(_ordered(x), level, "frozenset({", "})", self.maxfrozenset)  # type: ignore[attr-defined, no-any-return]


def _ordered(items: set[Any] | frozenset[Any]) -> list[Any]:
    return sorted(items, key=lambda item: (type(item).__name__, _show(item)))


_MAX_SHOWN_INT_BITS = 256
_LOG10_2 = math.log10(2)
_show = _ValueRepr().repr
MAX_TEXT = 200
"""A str field (a node id, a signal, an inbox) is shown up to this many characters."""
MAX_TRACEBACK_LINES = 200


def _text(value: Any) -> str:
    """A field the schema types as str, shown as it is unless it is too long to read."""
    text = str(value)
    if len(text) <= MAX_TEXT:
        return text
    return f"{text[:MAX_TEXT]}... <{len(text):,} characters>"


def format_message(msg: Message, source: str = "") -> str:
    """A message as ``inspect`` prints it: a header line, then the fields, then the value."""
    type_name = str(msg.type_)
    lines = [
        f"{type_name} message ({type(msg).__name__}){f', {source}' if source else ''}",
        f"  node_id    {_text(msg.node_id)}",
        f"  timestamp  {msg.timestamp.isoformat()}",
    ]
    value = msg.value
    if type_name == "event":
        lines.append(f"  value      {len(value)} event{'s' if len(value) != 1 else ''}")
        lines.extend(_event_line(index, event) for index, event in enumerate(value))
    elif type_name == "error":
        lines.append(f"  err_type   {_show(value['err_type'])}")
        lines.append(f"  err_args   {_show(value['err_args'])}")
        lines.append("  traceback")
        traceback = str(value["traceback"]).splitlines()
        lines.extend(f"    {_text(line)}" for line in traceback[:MAX_TRACEBACK_LINES])
        if len(traceback) > MAX_TRACEBACK_LINES:
            lines.append(f"    ... <{len(traceback) - MAX_TRACEBACK_LINES:,} more lines>")
    elif type_name == "announce":
        lines.append(f"  inbox      {_text(value['inbox'])}")
        lines.append(f"  nodes      {len(value['nodes'])}")
        lines.extend(f"    {_text(name)}: {_identify_line(node)}" for name, node in value["nodes"].items())
    elif type_name == "identify":
        lines.append(f"  value      {_identify_line(value)}")
    elif type_name == "process":
        lines.append(f"  epoch      {_show(value['epoch'])}")
        lines.append(f"  input      {_show(value['input'])}")
    elif hasattr(value, "model_dump"):  # a pydantic model (noob 1003's tube specification): shown as sent
        lines.append(f"  value      {type(value).__name__}")
        shown = value.model_dump(mode="json", by_alias=True, exclude_computed_fields=True)
        lines.extend(f"    {_text(key)}: {_show(item)}" for key, item in shown.items())
    else:
        lines.append(f"  value      {_show(value)}")
    return "\n".join(lines)


def _event_line(index: int, event: dict[str, Any]) -> str:
    return (
        f"    [{index}] id={_show(event['id'])} epoch={_show(event['epoch'])} "
        f"node_id={_text(event['node_id'])} signal={_text(event['signal'])} "
        f"at {event['timestamp'].isoformat()}: {_show(event['value'])}"
    )


def _identify_line(node: dict[str, Any]) -> str:
    return " ".join(
        f"{key}={_show(node[key])}" for key in ("node_id", "outbox", "status", "signals", "slots")
    )
