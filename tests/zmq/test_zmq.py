"""noobwire.zmq over real sockets on loopback: ipc:// in a temporary directory and tcp://127.0.0.1.

Every receive has a timeout (a lost message fails the test instead of hanging it), and every test sends
a handful of messages.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import zmq.asyncio

import noobwire
import zmq
from helpers import assert_same, event_msg, frame_under
from noobwire import DecodeError
from noobwire.bench.workloads import TIMESTAMP, make_workload
from noobwire.zmq import Received, recv_message, recv_message_async, send_message, send_message_async

TIMEOUT_MS = 10_000
Pair = Callable[[int, int], tuple[Any, Any]]
"""The ``pair`` fixture: a bound socket of one kind and a connected one of another."""
TRANSPORTS = ["ipc", "tcp"] if zmq.has("ipc") else ["tcp"]


ARRAYS = [
    np.arange(1 << 20, dtype=np.uint8).reshape(1024, 1024),
    np.linspace(0, 1, 1 << 16, dtype="<f4").reshape(256, 256),
    np.asfortranarray(np.arange(1 << 15, dtype=">i8").reshape(128, 256)),
    np.arange(1 << 18, dtype="<f8").reshape(512, 512)[::2, ::3],
    np.arange(1 << 15, dtype="<c16"),
    np.array(["2026-01-01T00:00"] * 20_000, dtype="<M8[us]").reshape(100, 200),
    np.zeros((4, 3), dtype="<u2"),  # small: in-band
]


@pytest.fixture
def endpoint(request: pytest.FixtureRequest) -> Iterator[Callable[[zmq.Socket[Any]], str]]:
    """Binds a socket on the transport under test (``inproc`` where a test names none) and returns the
    address to connect to."""
    transport = getattr(request, "param", "inproc")
    directory = tempfile.mkdtemp(prefix="nw")  # short: ipc paths are limited to about 100 bytes
    names = iter(range(100))

    def bind(socket: zmq.Socket[Any]) -> str:
        if transport in ("ipc", "inproc"):
            address = f"ipc://{directory}/{next(names)}" if transport == "ipc" else f"inproc://{next(names)}"
            socket.bind(address)
            return address
        socket.bind("tcp://127.0.0.1:*")  # a free port
        address: str = socket.getsockopt_string(zmq.LAST_ENDPOINT)
        return address

    yield bind
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def pair(context: zmq.Context[Any], endpoint: Callable[[zmq.Socket[Any]], str]) -> Pair:
    """``pair(bound_kind, connecting_kind)``: a socket bound on the transport under test, and one
    connected to it (both closed when the test ends)."""

    def make(bound_kind: int, connecting_kind: int) -> tuple[Any, Any]:
        bound, connecting = context.socket(bound_kind), context.socket(connecting_kind)
        connecting.connect(endpoint(bound))
        return bound, connecting

    return make


def _configure(socket: Any) -> Any:
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.RCVTIMEO, TIMEOUT_MS)
    socket.setsockopt(zmq.SNDTIMEO, TIMEOUT_MS)
    return socket


@pytest.fixture
def context() -> Iterator[zmq.Context[Any]]:
    ctx: zmq.Context[Any] = zmq.Context()
    sockets: list[Any] = []
    original = ctx.socket

    def socket(kind: int) -> Any:
        made = _configure(original(kind))
        sockets.append(made)
        return made

    ctx.socket = socket  # type: ignore[method-assign]
    yield ctx
    for made in sockets:
        made.close(linger=0)
    ctx.term()


@pytest.mark.parametrize("endpoint", TRANSPORTS, indirect=True)
def test_push_pull_arrays_arrive_equal_as_views_of_the_received_frames(
    pair: Pair,
) -> None:
    pull, push = pair(zmq.PULL, zmq.PUSH)
    msg = event_msg(*ARRAYS, {"raw": b"\x01" * 100_000, "small": b"s"})
    send_message(push, msg)
    received = recv_message(pull)
    assert received.envelope == []
    assert received.topic is None
    assert_same(msg, received.message)
    *arrays, raw = (event["value"] for event in received.message.value)
    for array in arrays[:-1]:
        frame = frame_under(array)
        assert isinstance(frame, zmq.Frame), "an out-of-band array is a view of its zmq.Frame"
        assert np.shares_memory(array, np.frombuffer(frame.buffer, dtype=np.uint8))
    assert not isinstance(frame_under(arrays[-1]), zmq.Frame), "a small array is in-band, a copy"
    assert type(raw["raw"]) is bytes


@pytest.mark.parametrize("endpoint", TRANSPORTS, indirect=True)
def test_bytes_can_come_back_as_memoryviews_of_the_frames(
    pair: Pair,
) -> None:
    pull, push = pair(zmq.PULL, zmq.PUSH)
    send_message(push, event_msg(b"\x07" * 200_000))
    (value,) = (event["value"] for event in recv_message(pull, buffers_as="memoryview").message.value)
    assert type(value) is memoryview
    assert isinstance(value.obj, zmq.Frame)
    assert value == b"\x07" * 200_000


@pytest.mark.parametrize("endpoint", TRANSPORTS, indirect=True)
def test_receiving_with_copy_gives_read_only_views_of_bytes(
    pair: Pair,
) -> None:
    pull, push = pair(zmq.PULL, zmq.PUSH)
    msg = make_workload("A1M")
    tracker = send_message(push, msg, track=True)
    assert tracker is not None
    received = recv_message(pull, copy=True)
    tracker.wait(TIMEOUT_MS / 1000)
    assert tracker.done
    array = received.message.value[0]["value"]
    assert type(frame_under(array)) is bytes
    assert not array.flags.writeable
    assert_same(msg, received.message)


@pytest.mark.parametrize("topic", [None, b"event"])
def test_the_tracker_waits_for_every_buffer_frame(pair: Pair, topic: bytes | None) -> None:
    # Over inproc a message waits in the pipe, its frames held, until it is received: the tracker
    # must not say done before that, whatever the small header frame (copied at once) says.
    pull, push = pair(zmq.PULL, zmq.PUSH)
    msg = event_msg(*ARRAYS)
    tracker = send_message(push, msg, topic, track=True)
    assert tracker is not None
    assert not tracker.done, "the buffers are still queued"
    received = recv_message(pull, copy=True)  # copies every frame and lets go of the sent ones
    tracker.wait(TIMEOUT_MS / 1000)
    assert tracker.done
    assert_same(msg, received.message)


def test_a_message_without_buffers_is_tracked_as_done(pair: Pair) -> None:
    pull, push = pair(zmq.PULL, zmq.PUSH)
    tracker = send_message(push, make_workload("E4"), track=True)
    assert tracker is not None
    assert tracker.done  # its one frame is noobwire's own bytes, copied
    assert_same(make_workload("E4"), recv_message(pull).message)


async def _send_tracked_async(push: Any, pull: Any, msg: Any) -> None:
    tracker = await send_message_async(push, msg, b"event", track=True)
    assert tracker is not None
    assert not tracker.done, "the buffers are still queued"
    received = await asyncio.wait_for(recv_message_async(pull, copy=True), TIMEOUT_MS / 1000)
    tracker.wait(TIMEOUT_MS / 1000)
    assert tracker.done
    assert_same(msg, received.message)


def test_the_async_tracker_waits_for_every_buffer_frame() -> None:
    async def exchange() -> None:
        ctx = zmq.asyncio.Context()
        pull, push = _configure(ctx.socket(zmq.PULL)), _configure(ctx.socket(zmq.PUSH))
        try:
            pull.bind("inproc://tracked-async")
            push.connect("inproc://tracked-async")
            await _send_tracked_async(push, pull, event_msg(*ARRAYS))
        finally:
            push.close(linger=0)
            pull.close(linger=0)
            ctx.term()

    asyncio.run(exchange())


class _FramesThatNeverSayMore:
    """A PULL socket whose received frames never say that more parts follow, as those of pyzmq's
    CFFI backend do not."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        frame = self._socket.recv(flags, copy=copy, track=track)
        return frame if copy else _NeverMore(frame)

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        return [
            frame if copy else _NeverMore(frame)
            for frame in self._socket.recv_multipart(flags=flags, copy=copy, track=track)
        ]


class _NeverMore:
    def __init__(self, frame: Any) -> None:
        self.buffer = frame.buffer
        self.more = False

    def __bytes__(self) -> bytes:
        return bytes(self.buffer)


@pytest.mark.parametrize("frames_know_more", [True, False])
def test_every_part_is_received_whether_frames_say_more_or_not(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, frames_know_more: bool
) -> None:
    monkeypatch.setattr(noobwire.zmq, "_FRAMES_KNOW_MORE", frames_know_more)
    pull, push = pair(zmq.PULL, zmq.PUSH)
    receiver = pull if frames_know_more else _FramesThatNeverSayMore(pull)
    sent = [event_msg(*ARRAYS), make_workload("E4"), make_workload("A1M")]
    for msg in sent:
        send_message(push, msg, "event")
    for msg in sent:
        received = recv_message(receiver)  # type: ignore[arg-type]
        assert received.envelope == [b"event"]
        assert_same(msg, received.message)
    assert not pull.poll(0), "a part was left behind"


def _subscribed(pub: Any, sub: Any, topic: bytes) -> None:
    """Wait out the slow joiner: publish pings on ``topic`` until one arrives."""
    poller = zmq.Poller()
    poller.register(sub, zmq.POLLIN)
    for _ in range(100):
        send_message(pub, noobwire.PingMsg(node_id="sync"), topic)
        if poller.poll(100):
            return
    pytest.fail("the subscriber never received a message")


def _next_not_ping(sub: Any) -> Received:
    while True:
        received = recv_message(sub)
        if received.message.type_ != "ping":
            return received


@pytest.mark.parametrize("endpoint", TRANSPORTS, indirect=True)
def test_pub_sub_topics_filter_and_come_back(pair: Pair) -> None:
    pub, sub = pair(zmq.PUB, zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"event")
    _subscribed(pub, sub, b"event")
    frame_msg = make_workload("A1M")
    sent = [
        ("status", make_workload("S")),
        ("event", frame_msg),
        ("process", make_workload("P")),
        ("event", make_workload("E4")),
        ("event_more", event_msg(ARRAYS[2])),  # SUB matches topics by prefix
        ("status", make_workload("S")),
        ("event", event_msg("end")),
    ]
    for topic, msg in sent:
        send_message(pub, msg, topic)
    expected = [(topic.encode(), msg) for topic, msg in sent if topic.startswith("event")]
    for topic, msg in expected:
        received = _next_not_ping(sub)
        assert received.topic == topic
        assert received.envelope == [topic]
        assert_same(msg, received.message)


@pytest.mark.parametrize("endpoint", TRANSPORTS, indirect=True)
def test_a_topic_that_is_a_header_does_not_confuse_the_receiver(
    pair: Pair,
) -> None:
    pub, sub = pair(zmq.PUB, zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    _subscribed(pub, sub, b"sync")
    msg = event_msg(ARRAYS[0], b"\x00" * 70_000)
    header_topics = [
        noobwire.encode(make_workload("S")),  # a valid single frame
        noobwire.encode_frames(msg)[-1],  # the header of this very message
        make_workload("S").to_json_bytes(),  # a legacy JSON frame
    ]
    for topic in header_topics:
        send_message(pub, msg, topic)
    for topic in header_topics:
        received = _next_not_ping(sub)
        assert received.envelope == [topic]
        assert_same(msg, received.message)


@pytest.mark.parametrize("endpoint", TRANSPORTS, indirect=True)
def test_dealer_router_keeps_identities(context: zmq.Context[Any], endpoint: Callable[..., str]) -> None:
    router = context.socket(zmq.ROUTER)
    address = endpoint(router)
    dealers = {}
    # one identity is itself a valid noobwire frame
    for identity in (b"cam", noobwire.encode(noobwire.PingMsg(node_id="x", timestamp=TIMESTAMP))):
        dealer = context.socket(zmq.DEALER)
        dealer.setsockopt(zmq.ROUTING_ID, identity)
        dealer.connect(address)
        dealers[identity] = dealer
    identify = noobwire.IdentifyMsg(
        node_id="cam",
        value={"node_id": "cam", "outbox": "ipc://x", "status": "ready", "signals": None, "slots": None},
    )
    for identity, dealer in dealers.items():
        for msg in (identify, make_workload("A1M"), make_workload("S")):
            send_message(dealer, msg)
            received = recv_message(router)
            assert received.envelope == [identity]
            assert_same(msg, received.message)
        reply = event_msg(ARRAYS[1])
        send_message(router, reply, identities=[identity])
        back = recv_message(dealer)
        assert back.envelope == []
        assert_same(reply, back.message)


@pytest.mark.parametrize("endpoint", TRANSPORTS, indirect=True)
def test_legacy_json_from_an_unmodified_noob_process(pair: Pair) -> None:
    pull, push = pair(zmq.PULL, zmq.PUSH)
    msg = make_workload("E4")
    status = make_workload("S")
    push.send_multipart([b"event", msg.to_json_bytes()])  # as noob's runner publishes
    push.send_multipart([status.to_json_bytes()])  # as a node runner's DEALER sends
    received = recv_message(pull)
    assert received.envelope == [b"event"]
    assert received.message.value == msg.value
    received = recv_message(pull)
    assert received.envelope == []
    assert received.message == status


@pytest.mark.parametrize("endpoint", TRANSPORTS, indirect=True)
def test_bad_frames_raise_and_the_next_message_is_read(pair: Pair) -> None:
    pull, push = pair(zmq.PULL, zmq.PUSH)
    header = noobwire.encode_frames(make_workload("A1M"))[-1]
    push.send_multipart([header])  # its buffer is missing
    push.send_multipart([b"topic", b"\x00" * 10, header])  # the wrong buffer
    push.send_multipart([b"\xc1"])
    send_message(push, make_workload("P"), b"process")
    for _ in range(3):
        with pytest.raises(DecodeError):
            recv_message(pull)
    received = recv_message(pull)
    assert received.topic == b"process"
    assert_same(make_workload("P"), received.message)


@pytest.mark.parametrize("endpoint", TRANSPORTS, indirect=True)
def test_asyncio_sockets(endpoint: Callable[..., str]) -> None:
    async def exchange() -> None:
        ctx = zmq.asyncio.Context()
        pull, push = _configure(ctx.socket(zmq.PULL)), _configure(ctx.socket(zmq.PUSH))
        router, dealer = _configure(ctx.socket(zmq.ROUTER)), _configure(ctx.socket(zmq.DEALER))
        try:
            push.connect(endpoint(pull))
            dealer.setsockopt(zmq.ROUTING_ID, b"node")
            dealer.connect(endpoint(router))
            msg = event_msg(*ARRAYS)
            await asyncio.wait_for(send_message_async(push, msg, b"event"), TIMEOUT_MS / 1000)
            received = await asyncio.wait_for(recv_message_async(pull), TIMEOUT_MS / 1000)
            assert received.envelope == [b"event"]
            assert_same(msg, received.message)
            assert isinstance(frame_under(received.message.value[0]["value"]), zmq.Frame)

            await send_message_async(dealer, make_workload("S"))
            from_dealer = await asyncio.wait_for(recv_message_async(router), TIMEOUT_MS / 1000)
            assert from_dealer.envelope == [b"node"]
            assert_same(make_workload("S"), from_dealer.message)
            await send_message_async(router, make_workload("A1M"), identities=[b"node"])
            reply = await asyncio.wait_for(recv_message_async(dealer, copy=True), TIMEOUT_MS / 1000)
            assert_same(make_workload("A1M"), reply.message)

            await push.send_multipart([b"event", make_workload("E4").to_json_bytes()])
            legacy = await asyncio.wait_for(recv_message_async(pull), TIMEOUT_MS / 1000)
            assert legacy.message.value == make_workload("E4").value
        finally:
            for socket in (pull, push, router, dealer):
                socket.close(linger=0)
            ctx.term()

    asyncio.run(exchange())
