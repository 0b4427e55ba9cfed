"""The legacy JSON codec, kept to talk to unmodified noob processes.

``encode_json`` writes exactly the bytes the reference's ``Message.to_bytes()`` writes, and
``decode_json`` reads them as the reference's ``Message.from_bytes()`` does (pydantic's lax
validation through the discriminated union on ``type``), with one difference: every failure is a
:class:`noobwire.DecodeError` (a ``ValueError``), the pydantic ``ValidationError`` as its cause.
The JSON of a noob generation is read by that noob's own ``MessageAdapter``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError, from_json, to_jsonable_python

from noobwire._core.epochs import refuse_shared_hashes
from noobwire._core.extensions import PICKLE_OFF
from noobwire._core.pickled_strs import find
from noobwire._core.shapes import construct_message
from noobwire._core.validation import checking_validator
from noobwire.errors import DecodeError, EncodeError, SchemaError, validation_summary
from noobwire.generations import REFERENCE, GenerationLike, as_generation
from noobwire.options import DEFAULT_OPTIONS, Options
from noobwire.wire import PICKLE_PREFIX

__all__ = ["decode_json", "encode_json", "written_again"]


def encode_json(msg: Any) -> bytes:
    """The reference JSON bytes of ``msg`` (``model_dump_json()`` as UTF-8).

    Refuses (:class:`EncodeError`, with its path) a ``str`` that begins with ``pck__`` where the
    reference's reader unpickles such strings (an event's value, anywhere in it, and an error
    message's value): in the reference JSON a pickle and such a str cannot be told apart, and a peer
    with pickle on would unpickle the str."""
    try:
        text: bytes = msg.model_dump_json().encode("utf-8")
    except PydanticSerializationError as exc:
        raise EncodeError(f"the reference JSON codec cannot write this message: {exc}") from exc
    except Exception as exc:  # what a field's own type raised while it was written
        raise EncodeError(
            f"the reference JSON codec cannot write this message ({type(exc).__name__}: {exc})"
        ) from exc
    if _QUOTED_PICKLE_PREFIX in text:  # (its own pickles start so too: then look at the strs)
        _refuse_pickle_lookalikes(msg)
    return text


_QUOTED_PICKLE_PREFIX = f'"{PICKLE_PREFIX}'.encode()


def _refuse_pickle_lookalikes(msg: Any) -> None:
    """Raise :class:`EncodeError` at the first str beginning with ``pck__`` that the JSON holds as a
    str where the reference's reader would unpickle it."""
    value = msg.value
    if str(msg.type_) == "event" and isinstance(value, list):
        for index, event in enumerate(value):
            if isinstance(event, str) and event.startswith(PICKLE_PREFIX):
                raise _lookalike_error(f"value[{index}]")
            if isinstance(event, dict) and "value" in event:
                _refuse_in(event["value"], f"value[{index}]['value']")
    elif str(msg.type_) == "error":
        _refuse_in(value, "value")


def _refuse_in(value: Any, path: str) -> None:
    """Refuse a pck__ str in ``value`` (one the reference writes as JSON: one it pickles whole instead
    holds its strs inside the pickle, where they stay strs)."""
    found = find(value, PICKLE_PREFIX, path, keys=False)
    if found is None:
        return
    try:
        to_jsonable_python(value)
    except Exception:  # written as one pickle, which holds the str as a str
        return
    raise _lookalike_error(found)


def _lookalike_error(path: str) -> EncodeError:
    return EncodeError(
        f"a str that begins with {PICKLE_PREFIX!r}: the reference JSON cannot tell it from a pickle, and "
        "a reader with pickle on would unpickle it (send it as noobwire MessagePack, or change it)",
        path,
    )


def decode_json(buf: Any, generation: GenerationLike = REFERENCE, options: Options = DEFAULT_OPTIONS) -> Any:
    """Read a legacy JSON frame (bytes or a buffer) as the classes of ``generation`` read it, unless
    ``options`` refuses JSON frames (``accept_json=False``).

    The bound module's ``MessageAdapter`` validates it: for the reference generation, noobwire's
    mirror (and with classes other than the mirror's, the validated fields are then put in the class
    for the message's type); for a noob generation, noob's own. With pickle off in ``options``, a frame
    holding a str that begins with ``pck__`` (the reference's pickles) is refused before it is
    validated, and the frame is read by the classes' checking validator
    (:mod:`noobwire._core.validation`) before any of their validators sees it. A refusal's message
    names the first few problems, cut short.
    """
    if not options.accept_json:
        raise DecodeError(
            "a legacy JSON frame, refused: this codec does not accept JSON "
            "(accept_json=False, as install(json_fallback=False) sets it)",
            0,
        )
    generation = as_generation(generation)
    data = bytes(buf)
    mirror = generation.json_mirror
    adapter = generation.bound_module.MessageAdapter
    try:
        if not options.allow_pickle:
            if _holds_pickle(data):
                raise DecodeError(
                    f"invalid JSON frame: refused a pickled ({PICKLE_PREFIX}) value: {PICKLE_OFF}"
                )
            checking_validator(adapter).validate_json(data)
        if mirror:
            msg = adapter.validate_json(data, context={"allow_pickle": options.allow_pickle})
        else:
            msg = adapter.validate_json(data)
    except ValidationError as exc:
        raise _json_refusal(exc, adapter, data) from exc
    except (DecodeError, RecursionError):  # (the second: the caller's stack ran out, no verdict)
        raise
    except Exception as exc:  # a validator of the classes (unpickling a pck__ value) failed
        raise DecodeError(f"invalid JSON frame ({type(exc).__name__}: {exc})") from exc
    layout = generation.layout(str(getattr(msg.type_, "value", msg.type_)))
    if layout is not None and layout.listed and isinstance(msg.value, list):
        refuse_shared_hashes(generation, layout.record, msg.value)  # (noob's epochs are made by now)
    if not mirror or generation is REFERENCE:
        return msg
    type_name = str(msg.type_)
    return construct_message(generation.classes[type_name], type_name, msg.node_id, msg.timestamp, msg.value)


def _json_refusal(exc: ValidationError, adapter: Any, data: bytes) -> DecodeError:
    """The error for a JSON frame that pydantic refused: not JSON, refused by the pickle policy (a
    validator of the mirror's), or breaking the schema (the first few problems named: when pydantic
    found too many to list, the first ones the shape check finds, failing fast)."""
    if exc.error_count() == 1:
        error = exc.errors(include_url=False, include_input=False)[0]
        if error["type"] == "json_invalid":
            return DecodeError(f"invalid JSON frame: {error['msg']}")
        refused = error.get("ctx", {}).get("error")
        if isinstance(refused, DecodeError):
            return DecodeError(f"invalid JSON frame: {refused.reason}")
    return SchemaError(
        f"JSON frame breaks the schema: {validation_summary(exc, _first_problems(adapter, data))}"
    )


def _first_problems(adapter: Any, data: bytes) -> ValidationError | None:
    """The first problems of a JSON frame, as the shape check finds them (failing fast), if it does."""
    try:
        checking_validator(adapter).validate_json(data)
    except ValidationError as exc:
        return exc
    except Exception:
        return None
    return None


def _holds_pickle(data: bytes) -> bool:
    """Whether a JSON frame holds a str that begins with ``pck__`` anywhere (a key too), escapes
    decoded. A frame that ``json`` cannot read is refused here (the check must not be skipped); one
    whose bytes hold neither ``pck__`` nor an escape that could spell it holds none."""
    if _QUOTED_PICKLE_PREFIX not in data and b"\\u" not in data:
        return False
    try:
        stack = [from_json(data)]  # (in Rust: as deep as pydantic reads, whatever the caller's stack)
    except ValueError as exc:
        raise DecodeError(f"invalid JSON frame ({exc})") from None
    while stack:
        item = stack.pop()
        if type(item) is str:
            if item.startswith(PICKLE_PREFIX):
                return True
        elif type(item) is list:
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item)
            stack.extend(item.values())
    return False


def written_again(msg: Any, encode: Any, generation: GenerationLike, options: Options) -> None:
    """Refuse (:class:`SchemaError`) a message read from a JSON frame that ``encode`` (the decoding
    backend's own) cannot write as a noobwire frame: what a decoder accepts, its encoder writes. The
    reference's lax JSON lets through what noobwire's format does not (an epoch deeper than a
    generation's, a str with a lone surrogate). The frame size is not held to ``max_frame_size`` here:
    that bounds what is read."""
    try:
        encode(msg, generation, replace(options, max_frame_size=2**32 - 1))
    except EncodeError as exc:
        where = f" at {exc.path}" if exc.path else ""
        raise SchemaError(
            f"JSON frame whose message cannot be written as a noobwire frame: {exc.reason}{where}"
        ) from exc
