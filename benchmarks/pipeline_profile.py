"""Where an epoch's time goes in noob's ZeroMQ runner, by process, with and without noobwire.

    python benchmarks/pipeline_profile.py [--pipeline small] [--epochs 4000] [--rate 250]

Runs a pipeline of ``noobwire bench --pipeline`` for ``--epochs`` epochs with noob's ``ZMQRunner``, once
as installed (noob alone) and once after ``noobwire.noob.install()``, each in a fresh interpreter sampled
by py-spy with all its processes (``pip install py-spy``, or noobwire's ``profile`` extra; py-spy needs
to be allowed to read other processes' memory). Each sample is given to the process it came from (the
driving process, which runs noob's command node in a thread, and each node's process) and to what the
sampled thread was doing, by the innermost Python frame:

- codec: inside a message's ``to_bytes()`` / ``from_bytes()`` (noob's JSON and pydantic, or noobwire);
- hook: noobwire's runner hook itself, around noob's sending and receiving (``noobwire.noob``);
- nodes' code: the pipeline's own nodes (``noobwire.bench.pipeline_nodes``);
- ZeroMQ: pyzmq, sending and receiving (its asyncio sockets included);
- scheduler: noob's ``Scheduler``;
- thread pool: handing a node's call to its thread and back (``concurrent.futures``, ``threading``);
- event loop: asyncio and its selector;
- noob, rest: anything else (noob's runner, its models and stores, pydantic outside a codec call).

The table gives CPU microseconds per epoch: each process's CPU time over the timed epochs (from the
kernel, Linux's /proc), shared out over the categories as its samples were; py-spy samples the timed
epochs only (it is started once the runner is up and warm, and stopped as the epochs end). It is what
a process spent, not the wall time of an epoch, as every process runs at once. An event loop that polls
without waiting shows as event loop.

noob's runner alone fails a run now and then with ``InvalidStateError`` from ``_get_epoch_future`` (a
race between its command node's thread and ``run()``, which noobwire's runner hook mends): a failed run
is tried again, twice at most.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CATEGORIES = (
    "codec",
    "hook",
    "nodes' code",
    "ZeroMQ",
    "scheduler",
    "thread pool",
    "event loop",
    "noob, rest",
)

_CODEC = re.compile(
    r"^(\S*\.)?(to_bytes|from_bytes) \(|\((noobwire/(_core|multipart|codec)|noob/network/message)"
)
_NODES = re.compile(r"\(noobwire/bench/pipeline_nodes\.py")
_BY_FILE = (
    (re.compile(r"\(noobwire/noob/"), "hook"),
    (re.compile(r"\(zmq/"), "ZeroMQ"),
    (re.compile(r"\(noob/scheduler\.py"), "scheduler"),
    (re.compile(r"\((concurrent/futures/|threading\.py)"), "thread pool"),
    (re.compile(r"\((asyncio/|selectors\.py)"), "event loop"),
)
_PROCESS = re.compile(r'(?:^|;)process (\d+):"')


def category(frames: list[str]) -> str:
    """What a sample's stack (outermost frame first) was doing (see the module's docstring)."""
    if any(_CODEC.search(frame) for frame in frames):
        return "codec"
    if any(_NODES.search(frame) for frame in frames):
        return "nodes' code"
    for pattern, name in _BY_FILE:
        if frames and pattern.search(frames[-1]):
            return name
    return "noob, rest"


def tally(raw: str) -> dict[int, collections.Counter[str]]:
    """Samples by process id and category, from py-spy's ``--format raw`` output: each line is a stack,
    its processes first (the parent, then the child the sample is of), then its frames, then a count."""
    counts: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in raw.splitlines():
        stack, _, samples = line.rpartition(" ")
        processes = list(_PROCESS.finditer(stack))
        if not samples.isdigit() or not processes:
            continue
        # a command line may hold ";" (a spawned child's does), not '";': the frames start after it
        end = stack.find('";', processes[-1].end())
        frames = stack[end + 2 :].split(";") if end >= 0 else []
        counts[int(processes[-1][1])][category(frames)] += int(samples)
    return counts


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process ``pid`` has used so far (Linux: from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(variant: str, pipeline: str, epochs: int, roles_file: str, py_spy: str, rate: int) -> None:
    """The profiled interpreter: the pipeline through noob's ZMQRunner, with noobwire if ``variant`` is
    noobwire, sampled by py-spy (with its node processes) during the timed epochs only; writes which
    process is which and what each spent, and leaves the samples beside ``roles_file``."""
    import multiprocessing
    import signal

    if variant == "noobwire":
        import noobwire.noob

        noobwire.noob.install()
    from noob import Tube
    from noob.runner.zmq import ZMQRunner

    from noobwire.bench.pipeline_nodes import pipeline_spec

    runner = ZMQRunner(Tube.from_specification(pipeline_spec(pipeline)))
    runner.init()
    try:
        roles = {os.getpid(): "driver + command node"}
        roles.update({p.pid: "node " + p.name.partition(".")[2] for p in multiprocessing.active_children()})
        runner.run(min(epochs, 200))  # warm up, as the benchmark does
        runner.store.clear()
        samples = Path(roles_file).with_name("samples.txt")
        sampler = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(os.getpid()),
                "--subprocesses",
                "--format",
                "raw",
                "--rate",
                str(rate),
                "--output",
                str(samples),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)  # py-spy finds the processes
        before = {pid: cpu_seconds(pid) for pid in roles}
        start = time.perf_counter()
        runner.run(epochs)
        seconds = time.perf_counter() - start
        cpu = {pid: cpu_seconds(pid) - before[pid] for pid in roles}
        sampler.send_signal(signal.SIGINT)  # py-spy writes what it sampled and ends
        _, errors = sampler.communicate(timeout=60)
        if not samples.exists():
            raise RuntimeError(f"py-spy wrote no samples: {errors[-2000:]}")
        runner.store.clear()
        Path(roles_file).write_text(json.dumps({"roles": roles, "cpu": cpu, "seconds": seconds}))
    finally:
        runner.deinit()


def profile(
    variant: str, pipeline: str, epochs: int, rate: int, py_spy: str
) -> tuple[dict[str, dict[str, float]], float]:
    """CPU microseconds per epoch by process role and category, and the epochs per second of the run."""
    with tempfile.TemporaryDirectory() as folder:
        raw, roles_file = Path(folder, "samples.txt"), Path(folder, "roles.json")
        command = [sys.executable, __file__, "--child", variant, pipeline, str(epochs), str(roles_file)]
        command += [py_spy, str(rate)]
        done = subprocess.run(
            command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        if not roles_file.exists():
            raise RuntimeError(f"the profiled run of {variant} failed:\n{done.stderr[-4000:]}")
        record = json.loads(roles_file.read_text())
        counts = tally(raw.read_text())
    table: dict[str, dict[str, float]] = {}
    for pid, role in sorted(record["roles"].items(), key=lambda item: item[1]):
        samples = counts[int(pid)]
        per_sample = record["cpu"][pid] * 1e6 / epochs / max(1, sum(samples.values()))
        table[role] = {name: samples[name] * per_sample for name in CATEGORIES}
    return table, epochs / record["seconds"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="small", help="small, A1M or A16M (default small)")
    parser.add_argument("--epochs", type=int, default=4000, help="epochs per run (default 4000)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second (default 250)")
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, pipeline, epochs, roles_file, py_spy, rate = args.child
        child(variant, pipeline, int(epochs), roles_file, py_spy, int(rate))
        return 0
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        print("needs py-spy: pip install py-spy (or noobwire's profile extra)", file=sys.stderr)
        return 2
    print(f"{args.pipeline}: {args.epochs} epochs, py-spy at {args.rate} Hz; CPU us per epoch by process")
    header = f"  {'process':<24}{'total':>7}" + "".join(f"{name:>12}" for name in CATEGORIES)
    for variant in ("noob", "noobwire"):
        for attempt in range(3):  # see the module's docstring
            try:
                table, rate = profile(variant, args.pipeline, args.epochs, args.rate, py_spy)
                break
            except RuntimeError as exc:
                print(f"{variant}: run {attempt + 1} failed, {str(exc).splitlines()[-1]}", file=sys.stderr)
        else:
            return 1
        print(
            f"\n{'noob alone' if variant == 'noob' else 'with noobwire'} ({rate:,.0f} epochs/s while sampled)"
        )
        print(header)
        totals = dict.fromkeys(CATEGORIES, 0.0)
        for role, cells in table.items():
            print(
                f"  {role:<24}{sum(cells.values()):>7.0f}" + "".join(f"{cells[n]:>12.0f}" for n in CATEGORIES)
            )
            for name in CATEGORIES:
                totals[name] += cells[name]
        print(
            f"  {'all processes':<24}{sum(totals.values()):>7.0f}"
            + "".join(f"{totals[n]:>12.0f}" for n in CATEGORIES)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
