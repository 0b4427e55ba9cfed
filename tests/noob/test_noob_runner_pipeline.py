"""noob's own ZeroMQ runner, hooked by noobwire.noob.runner_hook with the codec of the installed noob's
generation, on each backend (and, at the end, with noobwire.noob.install() as a user has it).

Real tubes, each node in a process of its own (forked from this one, so they inherit the hook), the command
node in a thread of this process. These need noob 1000 or later with its ZeroMQ runner (the test extra
installs noob 1003; ``NOOBWIRE_REQUIRE_NOOB_RUNNER=1`` turns the skip below into a failure).
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import os
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
zmq = pytest.importorskip("zmq")
noob = pytest.importorskip("noob", reason="noob is not installed")
try:
    from noob import Tube
    from noob.network import message as noob_message
    from noob.runner.zmq import ZMQRunner
except ImportError as exc:  # the reference's noob: a runner of another layout
    if os.environ.get("NOOBWIRE_REQUIRE_NOOB_RUNNER") == "1":
        raise
    pytest.skip(
        f"noob 1000 or later, with its ZeroMQ runner, is not installed ({exc})", allow_module_level=True
    )

import runner_nodes  # noqa: E402
from runner_nodes import LARGE, expected_arrays, mismatches, over_zmq_frame  # noqa: E402
from zmq.utils.monitor import recv_monitor_message  # noqa: E402

from noobwire import Codec  # noqa: E402
from noobwire.bench.pipeline_nodes import pipeline_spec, stamp_of  # noqa: E402
from noobwire.codec import Backend  # noqa: E402
from noobwire.noob import frame_codec  # noqa: E402
from noobwire.noob.compat import recognize  # noqa: E402
from noobwire.noob.runner_hook import RunnerPatch, active_runner_patch, patch_runner, unpatch  # noqa: E402

THRESHOLD = 65536
ARRAY_TUBE = {
    "noob_id": "noobwire-test-arrays",
    "nodes": {
        "source": {"type": f"{runner_nodes.__name__}.ArraySource"},
        "sink": {"type": f"{runner_nodes.__name__}.CheckingSink", "depends": [{"frames": "source.value"}]},
        "result": {"type": "return", "depends": "sink.value"},
    },
}


GENERATION = recognize(noob_message).generation


def _hook(backend: str | None) -> RunnerPatch:
    assert GENERATION is not None, "the installed noob's schema is no generation noobwire knows"
    encode, decode = frame_codec(Codec(generation=GENERATION.bind(noob_message), backend=backend))
    patch = patch_runner(noob, encode_frames=encode, decode_frames=decode, threshold=THRESHOLD)
    assert patch.active, "noob's runner is not laid out as the hook expects"
    return patch


@pytest.fixture
def hooked(backend: Backend) -> Iterator[RunnerPatch]:
    """noob's runner hooked with the stand-in codec on ``backend``."""
    patch = _hook(backend.name)
    yield patch
    unpatch(patch)


@pytest.fixture
def hooked_active_backend() -> Iterator[RunnerPatch]:
    """noob's runner hooked with the stand-in codec on the active backend only (for the long test)."""
    patch = _hook(None)
    yield patch
    unpatch(patch)


def _live_frames() -> int:
    gc.collect()
    return sum(type(obj) is zmq.Frame for obj in gc.get_objects())


class _Spy:
    """A SUB socket of our own on a node's outbox: the frames that node publishes, as they are."""

    def __init__(self, address: str) -> None:
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.SUBSCRIBE, b"event")
        monitor = self.socket.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED)
        try:
            self.socket.connect(address)
            # The subscription goes out right after the handshake: wait for that, not for a guessed time.
            assert monitor.poll(10_000), f"no connection to {address} in 10 s"
            assert recv_monitor_message(monitor)["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED
        finally:
            self.socket.disable_monitor()
            monitor.close(linger=0)

    def messages(self) -> list[list[bytes]]:
        received = []
        while self.socket.poll(1000):
            received.append(self.socket.recv_multipart())
        return received

    def close(self) -> None:
        self.socket.close(linger=0)
        self.context.term()


def _wire_problems(frames: list[bytes], count: int) -> list[str]:
    """What is wrong with ``frames`` as the source's event message of epoch ``count``: the topic first,
    then each large array's bytes (and the large bytes value) once, in a frame of its own, then a small
    header."""
    arrays = expected_arrays(count)
    wanted = [np.asarray(arrays[name]).tobytes(order="A") for name in LARGE] + [arrays["blob"]]
    problems = []
    if frames[0] != b"event":
        problems.append(f"the first frame is {frames[0][:20]!r}, not the topic")
    if sorted(frames[1:-1]) != sorted(wanted):
        problems.append(f"{len(frames) - 2} buffer frames, not the {len(wanted)} large values' bytes")
    if len(frames[-1]) > 8192:
        problems.append(f"a header of {len(frames[-1])} bytes")
    return problems


def _check_what_the_command_node_saw(seen: _SourceEvents, epochs: int) -> set[int]:
    """Check the source's event messages that reached the command node (noob's own ``EventMsg``, each
    array as sent and a view of a received frame); return the epochs' counts."""
    messages = seen.wait_for(epochs)
    assert all(type(msg) is noob_message.EventMsg for msg in messages)
    by_count = {msg.value[0]["value"]["count"]: msg.value[0]["value"]["arrays"] for msg in messages}
    assert set(range(1, epochs + 1)) <= set(by_count)  # the source may have run ahead of the return
    for count, arrays in by_count.items():
        assert mismatches(arrays, expected_arrays(count)) == [], count
        assert sorted(name for name, value in arrays.items() if over_zmq_frame(value)) == sorted(LARGE)
    return set(by_count)


class _SourceEvents:
    """A callback for the command node's inbox: keeps the source's messages."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self._arrived = threading.Condition()

    def __call__(self, msg: Any) -> None:  # (in a thread of the command node's: noob runs sync callbacks so)
        if msg.node_id == "source":
            with self._arrived:
                self.messages.append(msg)
                self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> list[Any]:
        """The messages kept, once there are ``count`` of them (or ``timeout`` seconds have passed)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


def test_arrays_of_every_layout_arrive_exactly_at_the_sink_and_at_the_command_node(
    hooked: RunnerPatch,
) -> None:
    epochs = 8
    frames_before = _live_frames()
    seen_by_command = _SourceEvents()
    runner = ZMQRunner(Tube.from_specification(ARRAY_TUBE))
    with runner:
        runner.command.add_callback("inbox", seen_by_command)
        spy = _Spy(runner.command._nodes["source"]["outbox"])
        try:
            reports = runner.run(epochs)
            on_the_wire = spy.messages()
        finally:
            spy.close()
        processes = list(runner.node_procs.values())
        command_thread = runner._command_thread

    assert [report["count"] for report in reports] == list(range(1, epochs + 1))
    for report in reports:
        assert report["mismatches"] == [], report
        assert report["zero_copy"] == sorted(LARGE), report
        assert report["write"] is None, report
        assert report["kept_mismatches"] == [], report

    counts_seen = _check_what_the_command_node_saw(seen_by_command, epochs)
    assert hooked.received_frames >= epochs

    assert on_the_wire, "the spy saw no event message"
    for frames in on_the_wire:  # the spy may have joined late: find each message's epoch
        assert any(not _wire_problems(frames, count) for count in counts_seen), _wire_problems(frames, 1)

    assert not any(process.is_alive() for process in processes)
    assert command_thread is not None
    assert not command_thread.is_alive()
    leftover = runner.store.flat_events  # noob keeps the events of epochs run ahead of the return
    ran_ahead = {noob.types.Epoch(count - 1) for count in counts_seen if count > epochs}
    assert {event["epoch"] for event in leftover} <= ran_ahead
    del seen_by_command, reports, runner, leftover
    assert _live_frames() == frames_before, "received frames are still held after the run"


def test_small_values_go_as_single_noobwire_frames(hooked: RunnerPatch) -> None:
    runner = ZMQRunner(Tube.from_specification(pipeline_spec("small")))
    with runner:
        spy = _Spy(runner.command._nodes["source"]["outbox"])
        try:
            results = runner.run(20)
            on_the_wire = spy.messages()
        finally:
            spy.close()
    assert results == [4 * count for count in range(1, 21)]
    assert hooked.received_frames >= 3 * 20  # every node's events reached the command node through the hook
    assert on_the_wire
    version = GENERATION.version if GENERATION is not None else -1
    for frames in on_the_wire:  # the topic, then one noobwire frame: no buffer went out of band
        assert len(frames) == 2
        assert frames[0] == b"event"
        assert frames[1][:2] == bytes([0x96, version])


def runner_pids(runner: Any) -> dict[str, int]:
    """Each node process of ``runner``: its node id and process id."""
    return {node: process.pid for node, process in runner.node_procs.items()}


def _cpu_ticks(pid: int) -> int:
    """The CPU time ``pid`` has used so far, in clock ticks (user and system, from /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of stat(5)


def wait_until_idle(pids: Any, quiet: float = 0.2, timeout: float = 30) -> None:
    """Return once no process of ``pids`` has used CPU time for ``quiet`` seconds: what was queued for
    them is handled. (No process says when it has drained its inbox, so this polls what it can see;
    the wait ends as soon as they are idle, rather than after a guessed time.)"""
    deadline = time.monotonic() + timeout
    ticks = {pid: _cpu_ticks(pid) for pid in pids}
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = {pid: _cpu_ticks(pid) for pid in pids}
        if now == ticks:
            return
        ticks = now
    raise AssertionError(f"the processes {sorted(pids)} were still busy after {timeout} s")


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


def _counts_up(stamps: list[int]) -> bool:
    """Whether the sink's stamps count up one by one (modulo 251): no frame changed after it was sent."""
    return all(later == (earlier + 1) % 251 for earlier, later in itertools.pairwise(stamps))


def _mmap_large_allocations() -> bool:
    """Have glibc's malloc give each allocation of 64 KiB or more its own mapping, returned to the system
    when freed (``mallopt(M_MMAP_THRESHOLD)``), in this process and the ones it forks from now on.

    Otherwise glibc serves large blocks from its heap once one has been freed, and keeps the heap's top
    mapped: a process's resident memory then stays at the most it ever held at once, which here depends on
    how many messages happened to be queued for it at the busiest moment, not on what it still holds. Returns
    False where this is not glibc."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_mmap_threshold = -3
    return bool(mallopt(m_mmap_threshold, 65536))


def _settled_rss_kib(runner: Any, pids: dict[str, int]) -> dict[str, int]:
    """Each process's resident memory once the run has settled. noob's runner keeps the events of the
    epochs its nodes ran ahead of ``run(n)``'s last result (with noob alone as with the hook): they are
    dropped first, or they would count as growth."""
    runner.store.clear()
    wait_until_idle(pids.values())  # every inbox drained: the nodes that ran ahead have stopped working
    return {name: _rss_kib(pid) for name, pid in pids.items()}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads resident memory from /proc")
def test_every_process_keeps_its_memory_flat_over_2000_epochs_of_1_mib(
    hooked_active_backend: RunnerPatch,
) -> None:
    """2,000 epochs of a 1 MiB array after 500 of warming up, in runs of 500 epochs: noob's nodes set up
    their schedulers for all of a run's epochs when it starts, so each run's size sets a floor of its own
    (about 4 KiB per epoch, with noob alone as with the hook); runs of one size keep that floor level."""
    if not _mmap_large_allocations():
        pytest.skip("needs glibc's mallopt to measure resident memory without the heap's high-water mark")
    runner = ZMQRunner(Tube.from_specification(pipeline_spec("A1M")))
    with runner:
        pids = {"command": os.getpid(), **runner_pids(runner)}
        warm = runner.run(500)
        before = _settled_rss_kib(runner, pids)
        runs = [runner.run(500) for _ in range(4)]
        after = _settled_rss_kib(runner, pids)
    assert warm[0] == stamp_of(1)
    assert all(_counts_up(results) for results in [warm, *runs])
    growth_kib = {name: after[name] - before[name] for name in pids}
    assert all(kib < 4096 for kib in growth_kib.values()), f"resident memory grew (KiB): {growth_kib}"
    assert hooked_active_backend.received_frames >= 2500


class _CompletingScheduler:
    """A scheduler whose epoch completes while it is asked: as noob's command node, in its own thread,
    sets the epoch's future as the epoch ends, between the runner's making the future and its check
    (and, as noob 1000's does, drops it with ``drops``)."""

    def __init__(self, futures: dict[Any, Any], drops: bool) -> None:
        self.futures, self.drops, self.completed = futures, drops, False

    def epoch_completed(self, epoch: Any) -> bool:
        if not self.completed:
            self.futures[epoch].set_result(epoch)
            if self.drops:
                del self.futures[epoch]
            self.completed = True
        return True


def _racing_runner(drops: bool = False) -> Any:
    from types import SimpleNamespace

    futures: dict[Any, Any] = {}
    scheduler = _CompletingScheduler(futures, drops)
    return SimpleNamespace(_epoch_futures=futures, tube=SimpleNamespace(scheduler=scheduler))


def test_an_epoch_the_command_node_completes_meanwhile_does_not_end_the_run() -> None:
    """noob's ``_get_epoch_future`` raises ``InvalidStateError`` out of ``run()`` when the command node's
    thread completes the epoch between its making the future and setting it; hooked, the future the
    command node completed is returned."""
    import concurrent.futures

    from noob.runner.zmq.runner import ZMQRunner

    noobs = vars(ZMQRunner)["_get_epoch_future"]
    with pytest.raises(concurrent.futures.InvalidStateError):
        noobs(_racing_runner(), 7)
    patch = _hook(None)
    try:
        assert vars(ZMQRunner)["_get_epoch_future"] is not noobs
        runner = _racing_runner()
        future = ZMQRunner._get_epoch_future(runner, 7)
        assert future is runner._epoch_futures[7]
        assert future.result(timeout=0) == 7
        assert ZMQRunner._get_epoch_future(_racing_runner(), 8).done()
        # noob 1000's command node drops the future it completes: noob's then raised KeyError
        with pytest.raises(KeyError):
            noobs(_racing_runner(drops=True), 9)
        dropped = ZMQRunner._get_epoch_future(_racing_runner(drops=True), 9)
        assert dropped.result(timeout=0) == 9
    finally:
        unpatch(patch)
    assert vars(ZMQRunner)["_get_epoch_future"] is noobs


def test_the_pipeline_benchmark_runs_every_runner_and_checks_their_results() -> None:
    from noobwire.bench.pipeline import format_pipeline_report, run_pipelines

    results = run_pipelines(["small", "A1M"], seconds=0.05, rounds=1)
    assert [result.pipeline for result in results] == ["small", "A1M"]
    assert set(results[0].rates) == {"noob", "noobwire", "sync"}
    assert set(results[0].not_measured) == {"raw"}
    assert set(results[1].rates) == {"noob", "noobwire", "sync", "raw"}
    assert all(rate > 0 for result in results for rates in result.rates.values() for rate in rates)
    assert "noobwire (ZMQRunner)" in format_pipeline_report(results)
    assert active_runner_patch() is None  # the benchmark undid its hook


@pytest.mark.parametrize("install_request", [None, "1"])
def test_noob_alone_and_noobwire_are_driven_alike_differing_only_in_the_install(
    monkeypatch: pytest.MonkeyPatch, install_request: str | None
) -> None:
    """The benchmark drives each of noob's runners from a spawned process of its own (one driven from
    the benchmark's own process ran faster, which is not noobwire's doing); only noobwire's has it
    installed, also where NOOBWIRE_INSTALL asks every new process for it, and the benchmark's process
    has nothing installed by them."""
    import noobwire.noob
    from noobwire.bench.pipeline import _Setup

    if install_request is not None:
        monkeypatch.setenv("NOOBWIRE_INSTALL", install_request)

    setup = _Setup("small", ["noob", "noobwire", "sync"])
    try:
        states = {variant: opened.state for variant, opened in setup.opened.items()}  # type: ignore[attr-defined]
        assert {variant: state.installed for variant, state in states.items()} == {
            "noob": False,
            "noobwire": True,
            "sync": False,
        }
        pids = {state.pid for state in states.values()}
        assert len(pids) == 3
        assert os.getpid() not in pids
        assert all(opened.run(4) > 0 for opened in setup.opened.values())
    finally:
        setup.close()
    assert noobwire.noob.active_installation() is None
    assert active_runner_patch() is None
    assert os.environ.get("NOOBWIRE_INSTALL") == install_request


def _process_group(group: int) -> list[int]:
    """The live processes (not zombies) whose process group is ``group`` (Linux: from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from Linux's /proc")
def test_a_stuck_runner_s_driver_is_ended_with_its_node_processes() -> None:
    """A run that does not answer (a node stopped) times out; closing the driver then ends it and every
    node process of its runner, which would otherwise outlive it."""
    import signal

    from noobwire.bench.pipeline import _DrivenVariant

    variant = _DrivenVariant("small", "zmq", False, timeout_s=5)
    variant.close_grace_s = 1
    group = variant.state.pid
    nodes = [pid for pid in _process_group(group) if pid != group]
    try:
        assert len(nodes) == 3
        os.kill(nodes[0], signal.SIGSTOP)
        with pytest.raises(TimeoutError):
            variant.run(10_000)
    finally:
        variant.close()
    deadline = time.monotonic() + 10
    while _process_group(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _process_group(group) == []


def test_install_hooks_the_runner_and_every_message_is_noobwires() -> None:
    """With install() as a user has it: control messages and events in noobwire's frames, arrays out
    of band, and uninstall() takes the hook away again."""
    import noobwire.noob

    with noobwire.noob.install() as installation:
        patch = installation.runner_patch
        assert patch is not None
        assert patch.active
        assert active_runner_patch() is patch
        runner = ZMQRunner(Tube.from_specification(pipeline_spec("A1M")))
        with runner:
            results = runner.run(10)
    assert _counts_up(results)
    assert patch.received_frames >= 10
    assert not patch.active
    assert active_runner_patch() is None


def test_install_after_the_runner_started_its_processes_is_refused_and_the_runner_still_runs() -> None:
    """The node processes of a runner started before install() speak noob's JSON: patching this process
    then made the runner wait for them forever (each node logging that it cannot decode 0x96), so
    install() refuses, naming them, and patches nothing."""
    import noobwire.noob
    from noobwire.noob.runner_hook import started_runners

    with ZMQRunner(Tube.from_specification(pipeline_spec("small"))) as runner:
        with pytest.raises(noobwire.noob.RunnerStartedError, match=r"before ZMQRunner\.init\(\)") as refused:
            noobwire.noob.install()
        assert noobwire.noob.active_installation() is None
        assert active_runner_patch() is None
        (started,) = refused.value.runners
        assert started.runner_id == runner.runner_id
        assert started.node_processes == runner_pids(runner)
        assert all(f"{node} (pid {pid})" in str(refused.value) for node, pid in runner_pids(runner).items())
        assert runner.run(3) == [4, 8, 12]  # untouched: still noob's JSON
    assert started_runners() == []  # deinit() ended them
    with noobwire.noob.install():
        pass


def test_a_command_thread_left_alive_without_node_processes_is_no_started_runner() -> None:
    """noob 1000's deinit() (and an init() that failed before its nodes ran) leave the command node's
    thread alive with no node process: install() after it refused, as if nodes that speak JSON still
    ran."""
    from noob.runner.zmq.command import CommandNode

    import noobwire.noob
    from noobwire.noob.runner_hook import started_runners

    ended = threading.Event()

    class Lingering(CommandNode):  # type: ignore[misc]
        def run(self) -> None:
            ended.wait(30)

    command = Lingering.__new__(Lingering)
    object.__setattr__(command, "runner_id", "lingering")
    object.__setattr__(command, "_callbacks", {"inbox": {"sync": [print], "asyncio": []}})
    thread = threading.Thread(target=command.run, name="lingering command", daemon=True)
    thread.start()
    try:
        assert started_runners() == []
        with noobwire.noob.install():
            pass
    finally:
        ended.set()
        thread.join()


def _runner_held_at_its_first_node(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Any, threading.Thread, threading.Event, threading.Event]:
    """A runner, and a thread (not started) whose ``init()`` of it sets ``starting`` as it is about to
    start its first node process, and waits there until ``go_on`` is set."""
    import multiprocessing

    import noob.runner.zmq.runner as zmq_runner

    fork = multiprocessing.get_context("fork")
    starting, go_on = threading.Event(), threading.Event()

    class Held(fork.Process):  # type: ignore[name-defined,misc]
        def start(self) -> None:
            starting.set()
            go_on.wait(30)
            super().start()

    monkeypatch.setattr(zmq_runner, "mp", type("Context", (), {"Process": Held}))
    runner = ZMQRunner(Tube.from_specification(pipeline_spec("small")))
    return runner, threading.Thread(target=runner.init, name="runner init", daemon=True), starting, go_on


def test_a_runner_counts_as_started_while_its_init_starts_the_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its first node process may be started before multiprocessing lists it: install() in that moment
    (from another thread) went ahead, and the node, on noob's JSON, hung the run."""
    import noobwire.noob
    from noobwire.noob.runner_hook import started_runners

    runner, init, starting, go_on = _runner_held_at_its_first_node(monkeypatch)
    init.start()
    try:
        assert starting.wait(30)
        (started,) = started_runners()
        assert started.runner_id == runner.runner_id
        assert started.node_processes == {}
        with pytest.raises(noobwire.noob.RunnerStartedError, match=runner.runner_id):
            noobwire.noob.install()
    finally:
        go_on.set()
        init.join(30)
    try:
        assert runner.run(2) == [4, 8]
    finally:
        runner.deinit()


def test_a_runner_started_by_another_thread_while_install_patches_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """install() looked for started runners once, before it patched: a runner another thread started in
    between started its nodes on noob's JSON, unseen, and the run hung."""
    import importlib

    import noobwire.noob

    install_module = importlib.import_module("noobwire.noob.install")
    runner, init, starting, go_on = _runner_held_at_its_first_node(monkeypatch)
    set_environment = install_module._set_environment

    def meanwhile(*args: Any) -> Any:  # the other thread's init() gets to its first node here
        init.start()
        assert starting.wait(30)
        return set_environment(*args)

    monkeypatch.setattr(install_module, "_set_environment", meanwhile)
    before = os.environ.get("NOOBWIRE_INSTALL")
    try:
        with pytest.raises(noobwire.noob.RunnerStartedError, match=runner.runner_id):
            noobwire.noob.install()
        assert noobwire.noob.active_installation() is None
        assert os.environ.get("NOOBWIRE_INSTALL") == before  # put back, as noob's own classes are
    finally:
        go_on.set()
        init.join(30)
    try:
        assert runner.run(2) == [4, 8]  # noob's JSON throughout
    finally:
        runner.deinit()


def test_one_runner_s_unpatched_nodes_do_not_stop_another_s_of_the_same_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The nodes that spoke noob's JSON were noted by node id for the whole installation: a runner
    whose nodes started with noobwire was stopped for another runner's node of the same id."""
    import multiprocessing

    import noob.runner.zmq.runner as zmq_runner

    import noobwire.noob
    from noobwire.noob import runner_hook

    monkeypatch.setattr(runner_hook, "WATCH_SLICE_SECONDS", 60.0)
    with noobwire.noob.install():
        environment = os.environ.pop("NOOBWIRE_INSTALL")
        monkeypatch.setattr(zmq_runner, "mp", multiprocessing.get_context("spawn"))
        unpatched = ZMQRunner(Tube.from_specification(_source_only()))
        with pytest.raises(runner_hook.UnpatchedNodesError):
            unpatched.init()
        os.environ["NOOBWIRE_INSTALL"] = environment
        monkeypatch.undo()
        patched = ZMQRunner(Tube.from_specification(_source_only()))
        patched.init()
        try:
            assert len(patched.run(2)) == 2
        finally:
            patched.deinit()


def test_the_end_of_an_install_block_warns_of_a_runner_started_in_it_that_still_runs() -> None:
    """Its nodes speak noobwire, the parent noob's JSON again: the next run() waited forever, silently."""
    import noobwire.noob

    runner = ZMQRunner(Tube.from_specification(pipeline_spec("small")))
    installation = noobwire.noob.install()
    try:
        runner.init()
        assert runner.run(2) == [4, 8]
        with pytest.warns(
            RuntimeWarning, match=r"uninstalled while noob runners started under it still run"
        ) as caught:
            installation.release()
        assert [warning.filename for warning in caught] == [__file__]  # the caller's line, not noobwire's
    finally:
        noobwire.noob.uninstall()
        runner.deinit()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with noobwire.noob.install():  # deinit() first: nothing to warn of
            ZMQRunner(Tube.from_specification(pipeline_spec("small"))).deinit()


def _source_only() -> dict[str, Any]:
    """A tube whose one node needs nothing from the runner to be ready."""
    spec = pipeline_spec("small")
    spec["nodes"] = {
        "source": spec["nodes"]["source"],
        "result": {"type": "return", "depends": "source.value"},
    }
    spec["noob_id"] += "-source-only"
    return spec


@pytest.mark.parametrize("tube", ["small", "source only"])
def test_nodes_started_without_noobwire_stop_the_runner_at_once_with_their_names(
    monkeypatch: pytest.MonkeyPatch, tube: str
) -> None:
    """Where install() cannot tell in advance: node processes that start without the start-up hook (here
    spawned with NOOBWIRE_INSTALL removed, as from an interpreter without noobwire_install.pth). They
    identify themselves in noob's JSON and never read the command node's frames; noob's init gave up
    after ten seconds with a TimeoutError that named nothing. It stops now with UnpatchedNodesError (a
    TimeoutError, so noob's init ends the node processes first), naming them. A source alone became
    ready in noob's JSON, and the run then waited forever for events it could not read."""
    import multiprocessing

    import noob.runner.zmq.runner as zmq_runner

    import noobwire.noob
    from noobwire.noob import runner_hook
    from noobwire.noob.runner_hook import UnpatchedNodesError

    monkeypatch.setattr(zmq_runner, "mp", multiprocessing.get_context("spawn"))
    if tube == "source only":  # noob's own wait returns once the source is ready, whatever the slice
        monkeypatch.setattr(runner_hook, "WATCH_SLICE_SECONDS", 60.0)
    before = os.environ.get("NOOBWIRE_INSTALL")
    with noobwire.noob.install() as installation:
        assert installation.runner_patch is not None
        assert installation.runner_patch.watching
        # Gone for the processes the runner starts; the end of the block restores what was there before
        # install() (monkeypatch would put back install()'s own value after that, for later tests).
        del os.environ["NOOBWIRE_INSTALL"]
        spec = pipeline_spec("small") if tube == "small" else _source_only()
        runner = ZMQRunner(Tube.from_specification(spec))
        with pytest.raises(UnpatchedNodesError, match="started without noobwire") as stopped:
            runner.init()
    assert stopped.value.nodes
    assert set(stopped.value.nodes) <= set(spec["nodes"]) - {"result"}
    assert not any(process.is_alive() for process in runner.node_procs.values())  # noob's init ended them
    assert os.environ.get("NOOBWIRE_INSTALL") == before  # nothing left for the tests after this one
