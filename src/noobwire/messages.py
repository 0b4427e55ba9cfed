"""The pydantic mirror of ``noob.network.message``: the schema, and the reference JSON encoding.

Every class here has the field names, aliases, defaults, config and JSON schema of the reference.
Its JSON serializers and validators are the reference's too (the ``pck__`` pickled values, the
ISO 8601 event timestamps, the ``"NoEvent"`` meta value), so ``model_dump_json()`` writes the bytes an
unmodified noob process writes. The only behaviour that differs is ``to_bytes()`` / ``from_bytes()``,
which speak noobwire's MessagePack format on the active backend (and still read the reference's JSON);
``to_json_bytes()`` writes the reference's JSON.
"""

from __future__ import annotations

import base64
import json
import pickle
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    TypeAdapter,
    ValidationInfo,
    WrapSerializer,
)
from pydantic_core import PydanticSerializationError
from pydantic_core.core_schema import SerializerFunctionWrapHandler

from noobwire._core.backends import ACTIVE
from noobwire._core.legacy_json import encode_json
from noobwire.errors import DecodeError
from noobwire.generations import REFERENCE
from noobwire.options import DEFAULT_OPTIONS
from noobwire.wire import PICKLE_PREFIX

if sys.version_info < (3, 12):
    from typing_extensions import TypedDict
else:
    from typing import TypedDict

__all__ = [
    "META_SIGNAL",
    "AnnounceMsg",
    "AnnounceValue",
    "DeinitMsg",
    "ErrorMsg",
    "ErrorValue",
    "Event",
    "EventMsg",
    "IdentifyMsg",
    "IdentifyValue",
    "InitMsg",
    "Message",
    "MessageAdapter",
    "MessageType",
    "MetaSignal",
    "NodeStatus",
    "PingMsg",
    "ProcessMsg",
    "ProcessValue",
    "StartMsg",
    "StatusMsg",
    "StopMsg",
]

_encode = ACTIVE.encode
_decode = ACTIVE.decode

META_SIGNAL = "__META__"
"""The signal name of meta events; their value ``MetaSignal.NoEvent`` is written as ``"NoEvent"``."""


class MetaSignal(StrEnum):
    """Sentinel values of meta events."""

    NoEvent = "NoEvent"


class MessageType(StrEnum):
    announce = "announce"
    identify = "identify"
    process = "process"
    init = "init"
    deinit = "deinit"
    ping = "ping"
    start = "start"
    status = "status"
    stop = "stop"
    event = "event"
    error = "error"


class NodeStatus(StrEnum):
    stopped = "stopped"
    """Node is deinitialized - does not have an instantiated node, etc., but is responsive."""
    waiting = "waiting"
    """Node is waiting for its dependency nodes to be ready"""
    ready = "ready"
    """Node is ready to process events"""
    running = "running"
    """
    Node is running in free-run mode.
    Note that we do not update status for every process call at the moment,
    as that level of granularity is not relevant to the command node when sending commands
    """
    closed = "closed"
    """Node is permanently gone, should not be expected to respond to further messages."""


# --- the reference's JSON (de)serialization helpers -------------------------------------------


def _to_isoformat(val: datetime) -> str:
    return val.isoformat()


def _from_isoformat(val: Any) -> Any:
    if isinstance(val, str):
        return datetime.fromisoformat(val)
    return val


def _pickle_to_str(val: Any) -> str:
    return PICKLE_PREFIX + base64.b64encode(pickle.dumps(val)).decode("utf-8")


def _to_jsonable_pickle(val: Any, handler: SerializerFunctionWrapHandler) -> Any:
    try:
        return handler(val)
    except (TypeError, PydanticSerializationError):
        return _pickle_to_str(val)


def _from_jsonable_pickle(val: Any, info: ValidationInfo) -> Any:
    if isinstance(val, str) and info.mode == "json" and val.startswith(PICKLE_PREFIX):
        return _unpickle_json(val, info)
    return val


def _unpickle_json(val: str, info: ValidationInfo) -> Any:
    """A ``pck__`` value read from the reference JSON, unpickled if the codec that validates it allows
    pickle (the context says; without one, the defaults do).

    Only while reading JSON (``info.mode == "json"``), where the reference writes its pickles so: a
    ``str`` validated from Python (``EventMsg(value=...)``, ``model_validate``) stays a ``str``, so a
    string decoded as a string never becomes a pickle later."""
    context = info.context
    allow_pickle = context.get("allow_pickle") if isinstance(context, dict) else None
    if allow_pickle is None:
        allow_pickle = DEFAULT_OPTIONS.allow_pickle
    if not allow_pickle:
        raise DecodeError(f"refused a pickled ({PICKLE_PREFIX}) value: pickle is off (allow_pickle=False)")
    return pickle.loads(base64.b64decode(val[len(PICKLE_PREFIX) :]))


SerializableDatetime = Annotated[
    datetime, BeforeValidator(_from_isoformat), PlainSerializer(_to_isoformat, when_used="json")
]
TPickle = TypeVar("TPickle")
Picklable = Annotated[
    TPickle,
    BeforeValidator(_from_jsonable_pickle),
    WrapSerializer(_to_jsonable_pickle, when_used="json"),
]


class Event(TypedDict):
    """
    Container for a single value returned from a single :meth:`.Node.process` call
    """

    id: int
    """Unique ID for each event"""
    timestamp: SerializableDatetime
    """Timestamp of when the event was received by the :class:`.TubeRunner`"""
    node_id: str
    """ID of node that emitted the event"""
    signal: str
    """name of the signal that emitted the event"""
    epoch: int
    """Epoch number the event was emitted in"""
    value: Picklable[Any]
    """Value emitted by the processing node"""


def _is_no_event(evt: Any) -> bool:
    value = evt.get("value") if isinstance(evt, dict) else None
    return isinstance(value, str) and value == MetaSignal.NoEvent.value and evt["signal"] == META_SIGNAL


def _event_to_json(val: Any, handler: SerializerFunctionWrapHandler) -> Any:
    # The reference writes the meta sentinel as its string value (it does so by mutating the event;
    # a copy gives the same bytes without touching the caller's message).
    if _is_no_event(val) and val["value"] is MetaSignal.NoEvent:
        val = {**val, "value": MetaSignal.NoEvent.value}
    try:
        return handler(val)
    except TypeError:
        return _pickle_to_str(val)


def _event_from_json(val: Any, info: ValidationInfo) -> Any:
    if isinstance(val, str):
        is_pickle = info.mode == "json" and val.startswith(PICKLE_PREFIX)
        val = _unpickle_json(val, info) if is_pickle else Event(**json.loads(val))  # type: ignore[typeddict-item]
    if _is_no_event(val):
        val = {**val, "value": MetaSignal.NoEvent}
    return val


SerializableEvent = Annotated[
    Event, WrapSerializer(_event_to_json, when_used="json"), BeforeValidator(_event_from_json)
]


# --- the message values ------------------------------------------------------------------------


class IdentifyValue(TypedDict):
    node_id: str
    outbox: str
    status: NodeStatus
    signals: list[str] | None
    slots: list[str] | None


class AnnounceValue(TypedDict):
    inbox: str
    nodes: dict[str, IdentifyValue]


class ErrorValue(TypedDict):
    err_type: type[Exception]
    err_args: tuple  # type: ignore[type-arg]
    traceback: str


class ProcessValue(TypedDict):
    epoch: int
    input: dict | None  # type: ignore[type-arg]


# --- the messages ------------------------------------------------------------------------------


class Message(BaseModel):
    type_: MessageType = Field(..., alias="type")
    node_id: str
    timestamp: datetime = Field(default_factory=lambda: datetime.now(UTC))
    value: Any = None

    model_config = ConfigDict(use_enum_values=True, validate_by_alias=True, serialize_by_alias=True)

    @classmethod
    def from_bytes(cls, msg: list[bytes]) -> Message:
        """Decode the last frame of ``msg``: a noobwire MessagePack frame or a legacy JSON frame
        (``noobwire.decode(msg)``). Raises :class:`noobwire.DecodeError` (a ``ValueError``) for anything
        that is not a message."""
        decoded: Message = _decode(msg, REFERENCE, DEFAULT_OPTIONS)
        return decoded

    def to_bytes(self) -> bytes:
        """Encode this message as one noobwire MessagePack frame (``noobwire.encode(msg)``)."""
        return _encode(self, REFERENCE, DEFAULT_OPTIONS)

    def to_json_bytes(self) -> bytes:
        """Encode this message exactly as the reference JSON codec does (for unmodified noob peers):
        ``noobwire.encode_json(msg)``."""
        return encode_json(self)


class AnnounceMsg(Message):
    """Command node 'announces' identities of other peers and the events they emit"""

    type_: Literal[MessageType.announce] = Field(MessageType.announce, alias="type")
    value: AnnounceValue


class IdentifyMsg(Message):
    """A node sends its configuration to the command node on initialization"""

    type_: Literal[MessageType.identify] = Field(MessageType.identify, alias="type")
    value: IdentifyValue


class PingMsg(Message):
    """Request other nodes to identify themselves and report their status"""

    type_: Literal[MessageType.ping] = Field(MessageType.ping, alias="type")
    value: None = None


class ProcessMsg(Message):
    """Process a single iteration of the graph"""

    type_: Literal[MessageType.process] = Field(MessageType.process, alias="type")
    value: ProcessValue
    """Any process-scoped input passed to the `process` call"""


class InitMsg(Message):
    """Initialize nodes within node runners"""

    type_: Literal[MessageType.init] = Field(MessageType.init, alias="type")
    value: None = None


class DeinitMsg(Message):
    """Deinitializes nodes within node runners"""

    type_: Literal[MessageType.deinit] = Field(MessageType.deinit, alias="type")
    value: None = None


class StartMsg(Message):
    """Start free-running nodes"""

    type_: Literal[MessageType.start] = Field(MessageType.start, alias="type")
    value: int | None = None


class StatusMsg(Message):
    """Node updating its current status"""

    type_: Literal[MessageType.status] = Field(MessageType.status, alias="type")
    value: NodeStatus


class StopMsg(Message):
    """Stop processing"""

    type_: Literal[MessageType.stop] = Field(MessageType.stop, alias="type")
    value: None = None


class ErrorMsg(Message):
    """An error occurred in one of the processing nodes"""

    type_: Literal[MessageType.error] = Field(MessageType.error, alias="type")
    value: Picklable[ErrorValue]

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def to_exception(self) -> Exception:
        """Rebuild the exception the node raised, with the node's traceback attached as a note."""
        err = self.value["err_type"](*self.value["err_args"])
        tb_message = "\nError re-raised from node runner process\n\n"
        tb_message += "Original traceback:\n"
        tb_message += "-" * 20 + "\n"
        tb_message += self.value["traceback"]
        err.add_note(tb_message)
        return err


class EventMsg(Message):
    type_: Literal[MessageType.event] = Field(MessageType.event, alias="type")
    value: list[SerializableEvent]


def _type_discriminator(v: Any) -> str:
    typ = v.get("type", "any") if isinstance(v, dict) else v.type_
    return typ if typ in MessageType.__members__ else "any"


MessageUnion = Annotated[
    Annotated[AnnounceMsg, Tag("announce")]
    | Annotated[IdentifyMsg, Tag("identify")]
    | Annotated[ProcessMsg, Tag("process")]
    | Annotated[InitMsg, Tag("init")]
    | Annotated[DeinitMsg, Tag("deinit")]
    | Annotated[PingMsg, Tag("ping")]
    | Annotated[StartMsg, Tag("start")]
    | Annotated[StatusMsg, Tag("status")]
    | Annotated[StopMsg, Tag("stop")]
    | Annotated[EventMsg, Tag("event")]
    | Annotated[ErrorMsg, Tag("error")]
    | Annotated[Message, Tag("any")],
    Discriminator(_type_discriminator),
]
MessageAdapter: TypeAdapter[Message] = TypeAdapter(MessageUnion)
"""Validates any message by its ``type`` (the reference's discriminated union)."""

MESSAGE_CLASSES: dict[str, type[Message]] = {
    "announce": AnnounceMsg,
    "identify": IdentifyMsg,
    "process": ProcessMsg,
    "init": InitMsg,
    "deinit": DeinitMsg,
    "ping": PingMsg,
    "start": StartMsg,
    "status": StatusMsg,
    "stop": StopMsg,
    "event": EventMsg,
    "error": ErrorMsg,
}
"""The message class of each message type."""
