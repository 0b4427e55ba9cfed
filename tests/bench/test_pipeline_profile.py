"""benchmarks/pipeline_profile.py: how it reads py-spy's samples (each to its process, and to what the
sampled thread was doing). The profiling itself needs py-spy and ptrace rights, and is not run here."""

from __future__ import annotations

from types import ModuleType

from benchmark_scripts import load_benchmark


def _profile() -> ModuleType:
    return load_benchmark("pipeline_profile")


PARENT = 'process 100:"python pipeline_profile.py --child noob small 10 roles.json"'
CHILD = 'process 101:"python pipeline_profile.py --child noob small 10 roles.json"'
RAW = "\n".join(
    [
        # the parent's own threads: no second process in the line
        f"{PARENT};<module> (pipeline_profile.py:120);ZMQRunner.run (noob/runner/zmq/runner.py:322);"
        "Message.from_bytes (noob/network/message.py:80);"
        "TypeAdapter.validate_json (pydantic/type_adapter.py:466) 7",
        f"{PARENT};Thread.run (threading.py:982);EpollSelector.select (selectors.py:468) 5",
        # a node's process: the parent first, then the child the sample is of
        f"{PARENT};{CHILD};NodeRunner.publish_events (noob/runner/zmq/node.py:200);"
        "Socket.send (zmq/sugar/socket.py:713) 11",
        f"{PARENT};{CHILD};_worker (concurrent/futures/thread.py:81);"
        "double (noobwire/bench/pipeline_nodes.py:92) 2",
        f"{PARENT};{CHILD};_worker (concurrent/futures/thread.py:81);Condition.wait (threading.py:327) 3",
        f"{PARENT};{CHILD};_publish_events.<locals>.publish_events (noobwire/noob/runner_hook.py:780) 4",
        f"{PARENT};{CHILD};to_bytes (noobwire/noob/install.py:438);encode (noobwire/_core/backends.py:10) 6",
        f"{PARENT};{CHILD};Scheduler.get_ready (noob/scheduler.py:165) 9",
        f"{PARENT};{CHILD};NodeRunner.on_event (noob/runner/zmq/node.py:310) 1",
        "not a sample line",
    ]
)


def test_each_sample_goes_to_its_own_process_and_to_what_it_was_doing() -> None:
    profile = _profile()
    counts = profile.tally(RAW)
    assert dict(counts[100]) == {"codec": 7, "event loop": 5}
    assert dict(counts[101]) == {
        "ZeroMQ": 11,
        "nodes' code": 2,
        "thread pool": 3,
        "hook": 4,
        "codec": 6,
        "scheduler": 9,
        "noob, rest": 1,
    }
    assert set(profile.CATEGORIES) >= set(counts[101])
