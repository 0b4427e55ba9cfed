"""The pipeline benchmark (``noobwire bench --pipeline``): noob's own ZeroMQ runner moving arrays, with
and without noobwire, against the framework's and the transport's ceilings.

Three pipelines (:mod:`noobwire.bench.pipeline_nodes`): ``A16M``, a source returning a float32 array of
(2048, 2048) each epoch and a sink that reads it; ``A1M``, the same with a uint8 array of (1024, 1024);
``small``, a counter's values through three nodes. Each is run by:

- ``noob``: noob's ``ZMQRunner`` (every node in a process of its own), as installed;
- ``noobwire``: the same runner with ``noobwire.noob.install()``, as a user runs it: every message in
  noobwire's frames, and event messages' large buffers out of band;
- ``sync``: noob's ``SynchronousRunner`` (one process, values handed over as they are): the framework's
  own ceiling;
- ``raw``: for the array pipelines, pyzmq sending the same array from another process over ``ipc://``
  with ``copy=False``, and nothing else (:class:`noobwire.bench.throughput.ThroughputLink`): the
  transport's ceiling. It has one receiver where the runner has two (the sink and the command node).

Each of noob's runners is driven from a process of its own, started by spawn, the same driver for each
(with ``install()`` for ``noobwire`` only), whose runner starts its node processes as the benchmark's own
process would (fork, where that is the default), so that the runners differ in nothing but noobwire.
(When noob alone ran in the benchmark's process and noobwire's runner in a spawned one, whose nodes were
then spawned too, noob alone ran some 10% faster for that alone.) All are set up first and then take
turns: each round is made of ``turns`` turns, in each of which every variant runs for ``seconds / turns``
in a shuffled order, so that a change in the machine's load falls on all of them alike, also within a
round. A round's rate is the median of its turns' rates; the rates are medians over the rounds, and each
ratio is the median of the per-round ratios. Only ``runner.run(n)`` (or the raw transfer) is timed, not
starting the processes. Every run's results are checked: the sink's stamps must count up one by one (a
frame that changed after it was sent, or a stale one, breaks that).

Needs noob 1000 or later with its ZeroMQ runner (``pip install 'noob[zmq]'``); :func:`noob_missing`
says why not when it is missing.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import os
import random
import signal
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from noobwire.bench.pipeline_nodes import ARRAY_PIPELINES, INSTALL_NOOB, PIPELINES, pipeline_spec
from noobwire.bench.progress import Progress

__all__ = [
    "PIPELINES",
    "VARIANTS",
    "DriverState",
    "PipelineResult",
    "format_pipeline_report",
    "measure",
    "noob_missing",
    "results_from_json",
    "results_to_json",
    "run_pipelines",
]

VARIANTS = ("noob", "noobwire", "sync", "raw")
NAMES = {
    "noob": "noob alone (ZMQRunner)",
    "noobwire": "noobwire (ZMQRunner)",
    "sync": "SynchronousRunner",
    "raw": "raw pyzmq, ipc, copy=False",
}
_DRIVEN = {"noob": ("zmq", False), "noobwire": ("zmq", True), "sync": ("sync", False)}
"""The variants that are noob runners: which runner, and whether noobwire is installed."""
_MIN_EPOCHS = 2


def noob_missing() -> str | None:
    """Why the pipeline benchmark cannot run here (noob or its ZeroMQ runner missing), or None."""
    try:
        importlib.import_module("noob")
        importlib.import_module("noob.runner.zmq.node")
        importlib.import_module("numpy")
    except ImportError as exc:
        return (
            f"the pipeline benchmark needs noob 1000 or later with its ZeroMQ runner, and numpy "
            f"({INSTALL_NOOB}): {exc}"
        )
    return None


@dataclass
class PipelineResult:
    """One pipeline's measurements: per variant, epochs (or messages) per second in each round."""

    pipeline: str
    rates: dict[str, list[float]] = field(default_factory=dict)
    not_measured: dict[str, str] = field(default_factory=dict)


class _Variant(Protocol):
    def run(self, count: int) -> float:
        """Run ``count`` epochs (or messages); return the seconds it took. Raises on a wrong result."""
        ...

    def close(self) -> None: ...


def _check_stamps(pipeline: str, results: Sequence[Any]) -> None:
    """Raise ``RuntimeError`` unless a run's results count up one by one."""
    step = 4 if pipeline == "small" else 1
    modulo = None if pipeline == "small" else 251
    for earlier, later in itertools.pairwise(results):
        expected = earlier + step if modulo is None else (earlier + step) % modulo
        if later != expected:
            raise RuntimeError(f"{pipeline}: the sink returned {later} after {earlier}, not {expected}")


class _ZmqVariant:
    """A tube run by noob's ZeroMQ runner; its processes start here (with the patch that is active)."""

    def __init__(self, pipeline: str) -> None:
        from noob import Tube
        from noob.runner.zmq import ZMQRunner

        self.pipeline = pipeline
        self.runner = ZMQRunner(Tube.from_specification(pipeline_spec(pipeline)))
        self.runner.init()

    def run(self, count: int) -> float:
        start = time.perf_counter()
        results = self.runner.run(count)
        seconds = time.perf_counter() - start
        # noob's runner keeps the events of the epochs its nodes ran ahead of the last result: drop them
        self.runner.store.clear()
        _check_stamps(self.pipeline, results)
        return seconds

    def close(self) -> None:
        self.runner.deinit()


class _SyncVariant:
    def __init__(self, pipeline: str) -> None:
        from noob import SynchronousRunner, Tube

        self.pipeline = pipeline
        self.runner = SynchronousRunner(Tube.from_specification(pipeline_spec(pipeline)))
        self.runner.init()

    def run(self, count: int) -> float:
        start = time.perf_counter()
        results = self.runner.run(count)
        seconds = time.perf_counter() - start
        _check_stamps(self.pipeline, results)
        return seconds

    def close(self) -> None:
        self.runner.deinit()


@dataclass(frozen=True)
class DriverState:
    """What a driver process says of itself once its runner is ready."""

    pid: int
    """The driver's process id (never the benchmark's own)."""
    installed: bool
    """Whether noobwire is installed there, its runner hook active."""


class _DrivenVariant:
    """A noob runner (``zmq`` or ``sync``) driven in a process of its own, started by spawn; with
    ``install``, after ``noobwire.noob.install()``. Its runner starts its node processes by the start
    method of the benchmark's process. The benchmark's process never has noobwire installed by it."""

    close_grace_s = 30.0
    """How long :meth:`close` lets the driver end its runner when asked, before it sends SIGTERM."""

    def __init__(self, pipeline: str, runner: str, install: bool, timeout_s: float = 120.0) -> None:
        import multiprocessing

        spawn = multiprocessing.get_context("spawn")
        self._control, child_end = spawn.Pipe()
        self._timeout_s = timeout_s
        # the runner starts its node processes as one started from here would (a spawned interpreter's
        # default would be spawn); not a daemon: a daemon process may not start them
        start_method = multiprocessing.get_start_method()
        self._process = spawn.Process(
            target=_driver,
            args=(pipeline, runner, install, start_method, child_end),
            name=f"noobwire-bench-{runner}",
        )
        with _without_install_request():
            self._process.start()
        child_end.close()
        try:
            self.state: DriverState = self._answer()  # ready
            if self.state.installed != install:
                raise RuntimeError(
                    f"the driver of {runner} {'without' if install else 'with'} noobwire installed, "
                    f"not as asked"
                )
        except BaseException:
            self.close()
            raise

    def _answer(self) -> Any:
        if not self._control.poll(self._timeout_s):
            raise TimeoutError(f"the runner's driver did not answer in {self._timeout_s:g} s")
        status, value = self._control.recv()
        if status != "ok":
            raise RuntimeError(f"the runner's driver failed: {value}")
        return value

    def run(self, count: int) -> float:
        self._control.send(count)
        seconds: float = self._answer()
        return seconds

    def close(self) -> None:
        """Stop the runner and its driver: asked to, then by SIGTERM (on which the driver still ends its
        runner), and at last, if the driver has not ended, by killing its process group (its node
        processes too, which would otherwise outlive it)."""
        with contextlib.suppress(OSError, EOFError):
            self._control.send(None)
        self._process.join(timeout=self.close_grace_s)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=10)
        if self._process.is_alive() and self._process.pid is not None and hasattr(os, "killpg"):
            with contextlib.suppress(OSError):  # the driver leads its group (see _driver)
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.join(timeout=5)
        self._control.close()


@contextlib.contextmanager
def _without_install_request() -> Iterator[None]:
    """No ``NOOBWIRE_INSTALL`` in the environment while a driver starts: with it, the start-up hook would
    install noobwire in noob alone's driver, or before ``install()`` in noobwire's."""
    from _noobwire_environment import ENV_INSTALL

    request = os.environ.pop(ENV_INSTALL, None)
    try:
        yield
    finally:
        if request is not None:
            os.environ[ENV_INSTALL] = request


def _end_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(f"signal {signum}")


def _driver(pipeline: str, runner: str, install: bool, start_method: str, control: Any) -> None:
    """The process of a :class:`_DrivenVariant`: its runner, set up, then run on request. It leads a
    process group of its own (its runner's node processes join it), and a SIGTERM ends it through its
    runner's ``deinit()``."""
    if hasattr(os, "setsid"):  # POSIX
        os.setsid()
    signal.signal(signal.SIGTERM, _end_on_sigterm)
    try:
        import multiprocessing

        import noobwire.noob

        multiprocessing.set_start_method(start_method, force=True)
        if install:
            noobwire.noob.install()
            patch = noobwire.noob.hook_runner()
            if patch is None or not patch.active:
                raise RuntimeError("noobwire.noob.install() did not hook noob's runner (see its warning)")
        variant: _Variant = _ZmqVariant(pipeline) if runner == "zmq" else _SyncVariant(pipeline)
    except Exception as exc:
        control.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    control.send(("ok", DriverState(os.getpid(), noobwire.noob.active_installation() is not None)))
    try:
        while (count := control.recv()) is not None:
            try:
                control.send(("ok", variant.run(count)))
            except Exception as exc:
                control.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        variant.close()


class _RawVariant:
    def __init__(self, pipeline: str) -> None:
        from noobwire.bench.throughput import ThroughputLink

        self.link = ThroughputLink(pipeline, "ipc", ["raw"]).__enter__()

    def run(self, count: int) -> float:
        seconds, _ = self.link.transfer("raw", count)
        return seconds

    def close(self) -> None:
        self.link.close()


class _Setup:
    """Every variant of one pipeline, set up before any is timed."""

    def __init__(self, pipeline: str, variants: Sequence[str]) -> None:
        self.pipeline = pipeline
        self.opened: dict[str, _Variant] = {}
        self.not_measured: dict[str, str] = {}
        try:
            for variant in variants:
                self._open(variant)
        except BaseException:
            self.close()
            raise

    def _open(self, variant: str) -> None:
        if variant == "raw" and self.pipeline not in ARRAY_PIPELINES:
            self.not_measured[variant] = "raw pyzmq sends an array: array pipelines only"
        elif variant in _DRIVEN:
            runner, install = _DRIVEN[variant]
            self.opened[variant] = _DrivenVariant(self.pipeline, runner, install)
        elif variant == "raw":
            self.opened[variant] = _RawVariant(self.pipeline)
        else:
            raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")

    def close(self) -> None:
        """Stop every runner."""
        for variant in list(self.opened):
            opened = self.opened.pop(variant)
            with contextlib.suppress(Exception):
                opened.close()


def _counts(opened_variants: dict[str, _Variant], seconds: float) -> dict[str, int]:
    """How many epochs each variant runs per turn: about ``seconds``' worth, by a first timed run (which
    also warms it up)."""
    counts = {}
    for variant, opened in opened_variants.items():
        opened.run(_MIN_EPOCHS)  # the first run starts the processes' loops
        took = opened.run(_MIN_EPOCHS)
        counts[variant] = max(_MIN_EPOCHS, int(seconds / max(took / _MIN_EPOCHS, 1e-6)))
    return counts


def run_pipelines(
    pipelines: Sequence[str] = PIPELINES,
    variants: Sequence[str] = VARIANTS,
    seconds: float = 2.0,
    rounds: int = 5,
    progress: Progress | None = None,
    seed: int = 0,
    turns: int = 8,
) -> list[PipelineResult]:
    """Measure each pipeline with each variant: ``rounds`` rounds of about ``seconds`` per variant, each
    round in ``turns`` turns (see :func:`measure`).

    Raises ``RuntimeError`` if noob is missing (see :func:`noob_missing`) or a run's results are wrong.
    """
    missing = noob_missing()
    if missing:
        raise RuntimeError(missing)
    shuffle = random.Random(seed).shuffle
    results = []
    for pipeline in pipelines:
        if progress:
            progress.start(pipeline, len(variants), rounds, kinds=("runners", "rounds"))
        setup = _Setup(pipeline, variants)
        try:
            result = PipelineResult(pipeline, not_measured=dict(setup.not_measured))
            result.rates = measure(setup.opened, seconds, rounds, turns, shuffle, progress)
        finally:
            setup.close()
        if progress:
            progress.finish()
        results.append(result)
    return results


def measure(
    variants: dict[str, _Variant],
    seconds: float,
    rounds: int,
    turns: int,
    shuffle: Callable[[list[str]], None],
    progress: Progress | None = None,
) -> dict[str, list[float]]:
    """Each variant's rate (epochs per second) in each of ``rounds`` rounds. A round is ``turns`` turns;
    in each turn every variant, in an order ``shuffle`` draws, runs about ``seconds / turns``' worth of
    epochs; a variant's rate in a round is the median of its turns' rates, so that a moment of load on
    the machine during one turn does not decide the round."""
    if turns < 1:
        raise ValueError(f"turns must be at least 1, not {turns}")
    counts = _counts(variants, seconds / turns)
    order = list(variants)
    rates: dict[str, list[float]] = {variant: [] for variant in order}
    for done in range(rounds):
        turn_rates: dict[str, list[float]] = {variant: [] for variant in order}
        for _ in range(turns):
            shuffle(order)
            for variant in order:
                turn_rates[variant].append(counts[variant] / variants[variant].run(counts[variant]))
        for variant in rates:
            rates[variant].append(statistics.median(turn_rates[variant]))
        if progress:
            progress.repeat(done + 1)
    return rates


def _ratio(rates: dict[str, list[float]], mine: str, theirs: str) -> float | None:
    """The median over rounds of ``mine``'s rate divided by ``theirs``' in the same round."""
    if mine not in rates or theirs not in rates:
        return None
    return statistics.median(a / b for a, b in zip(rates[mine], rates[theirs], strict=True))


def format_pipeline_report(results: Sequence[PipelineResult]) -> str:
    """One table per pipeline: each variant's median epochs per second (messages per second for raw
    pyzmq), its rate divided by noob alone's (the median of the rounds' ratios, and the least and the
    most of them: the spread) and by raw pyzmq's, round by round."""
    lines = []
    for result in results:
        title = {"A16M": "float32 (2048, 2048), 16 MiB", "A1M": "uint8 (1024, 1024), 1 MiB"}.get(
            result.pipeline, "small values through 3 nodes"
        )
        lines.append(f"{result.pipeline}: {title}, source to sink, {_rounds(result)} rounds")
        lines.append(f"  {'runner':<30}{'epochs/s':>12}{'x noob':>10}{'spread':>16}{'x raw':>9}")
        for variant, samples in result.rates.items():
            cells = [_cell(_ratio(result.rates, variant, base)) for base in ("noob", "raw")]
            spread = _spread(result.rates, variant, "noob")
            lines.append(
                f"  {NAMES[variant]:<30}{statistics.median(samples):>12,.1f}{cells[0]:>10}{spread:>16}"
                f"{cells[1]:>9}"
            )
        for variant, why in result.not_measured.items():
            lines.append(f"  {NAMES[variant]:<30}  not measured: {why}")
        lines.append("")
    return "\n".join(lines)


def results_to_json(results: Sequence[PipelineResult], settings: dict[str, Any]) -> dict[str, Any]:
    """The raw results (every round's rate), the settings and the machine, for ``--json``."""
    from noobwire.bench.report import machine

    return {
        "settings": settings,
        **machine(),
        "pipelines": [
            {"pipeline": result.pipeline, "rates": result.rates, "not_measured": result.not_measured}
            for result in results
        ],
    }


def results_from_json(record: dict[str, Any]) -> list[PipelineResult]:
    """The results of a run as :func:`results_to_json` saved them."""
    return [
        PipelineResult(item["pipeline"], dict(item["rates"]), dict(item.get("not_measured", {})))
        for item in record["pipelines"]
    ]


def _rounds(result: PipelineResult) -> int:
    return max((len(samples) for samples in result.rates.values()), default=0)


def _spread(rates: dict[str, list[float]], mine: str, theirs: str) -> str:
    """The least and the most of the rounds' ratios of ``mine``'s rate to ``theirs``."""
    if mine not in rates or theirs not in rates:
        return "-"
    ratios = [a / b for a, b in zip(rates[mine], rates[theirs], strict=True)]
    return f"{_cell(min(ratios))}-{_cell(max(ratios))}"


def _cell(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.3f}" if ratio < 10 else f"{ratio:.1f}"
