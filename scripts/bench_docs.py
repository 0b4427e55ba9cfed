"""The speed figures of the README and the documentation, written from one recorded run.

    python scripts/bench_docs.py record   # run the benchmarks, save them in docs/bench/, then render
    python scripts/bench_docs.py render   # write the figures into the pages from the saved run
    python scripts/bench_docs.py check    # exit 1 if a page's figures are not what render writes

``record`` runs ``noobwire bench`` (every workload and codec; its chart becomes ``docs/bench.png``),
``noobwire bench --pipeline`` (noob's runners with and without noobwire) and the ZeroMQ races of
``benchmarks/test_zmq.py``, one after the other, and saves their raw results, with the command, the
machine and the date, in ``docs/bench/``. ``render`` reads only those files.

Every figure in the pages stands between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``, and
only there: ``render`` rewrites what is between the markers and nothing else, and the test suite fails
when a page differs from what ``render`` would write (``tests/project/test_bench_docs.py``), so a page
cannot say other than the recorded run does. Run ``record`` on a quiet machine after a change that
moves the speed, and commit what it writes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noobwire.bench import pipeline as bench_pipeline
from noobwire.bench import report
from noobwire.bench.timing import Result

ROOT = Path(__file__).resolve().parent.parent
RECORD = Path("docs/bench")
"""Where the saved run lives, under the repository's root."""
ZMQ_ROUNDS = 20


@dataclass
class Run:
    """A recorded run: the codecs' results, the pipelines' and the ZeroMQ races', with what each says
    of itself (command, machine, date)."""

    bench: dict[str, Any]
    pipelines: dict[str, Any]
    zmq: dict[str, Any]
    runner_path: dict[str, Any]

    @property
    def results(self) -> list[Result]:
        return report.results_from_json(self.bench)

    def row(self, workload: str, codec: str) -> Result:
        """The result of ``codec`` (a key: ``compiled``, ``msgspec``, ...) on ``workload``."""
        for result in self.results:
            if result.workload == workload and result.codec == codec:
                return result
        raise KeyError(f"the recorded run has no {codec} on {workload}")

    def ratio(self, workload: str, codec: str, than: str = "compiled", time: str = "total_us") -> float:
        """``codec``'s time on ``workload`` divided by ``than``'s (``time``: total_us, encode_us or
        decode_us)."""
        return float(getattr(self.row(workload, codec), time) / getattr(self.row(workload, than), time))


def load(root: Path = ROOT) -> Run:
    """The run saved under ``root``."""
    folder = root / RECORD
    return Run(*(json.loads((folder / name).read_text("utf-8")) for name in _FILES))


_FILES = ("run.json", "pipeline.json", "zmq.json", "runner_path.json")


# --- how figures are written -----------------------------------------------------------------------


def times(value: float) -> str:
    """A ratio as the pages write it: two or three significant digits (``8.8``, ``27.7``, ``126``)."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2g}"


def duration(us: float) -> str:
    """A time per message: ``3.6 µs``, ``27 µs``, ``5.6 ms``."""
    if us >= 1000:
        return f"{us / 1000:.1f} ms"
    return f"{us:.1f} µs" if us < 10 else f"{us:.0f} µs"


def paragraph(text: str) -> str:
    """Prose as the pages wrap it."""
    return textwrap.fill(text, width=104, break_long_words=False, break_on_hyphens=False)


def spread(values: Sequence[float]) -> str:
    """The least and the most of ``values``: ``11 to 25``."""
    return f"{times(min(values))} to {times(max(values))}"


def _machine(record: Mapping[str, Any]) -> str:
    noob = f", noob {record['noob']}" if record.get("noob") else ""
    return (
        f"Python {record['python']}, {record['processor']} ({record['cores']} cores){noob}, "
        f"recorded {record['recorded']}"
    )


def _round_ratios(rates: Mapping[str, Sequence[float]], mine: str, theirs: str) -> list[float]:
    return [a / b for a, b in zip(rates[mine], rates[theirs], strict=True)]


def _pipeline(run: Run, name: str) -> dict[str, Any]:
    return next(item for item in run.pipelines["pipelines"] if item["pipeline"] == name)


# --- the regions -----------------------------------------------------------------------------------

_TIMES = "\N{MULTIPLICATION SIGN}"

_README_ROWS = [
    ("**noobwire** (compiled), time per message", None, None),
    ("noobwire pure (no compiler), times compiled's", "pure", "compiled"),
    ("noobwire zero-copy frames, times compiled's", "frames", "compiled"),
    ("noob's JSON, times noobwire's", "json", "compiled"),
    ("msgspec, times noobwire's", "msgspec", "compiled"),
    ("msgpack-python, times noobwire's", "msgpack", "compiled"),
    ("pickle 5, times noobwire's", "pickle", "compiled"),
]


def readme_speed(run: Run) -> str:
    workloads = list(dict.fromkeys(result.workload for result in run.results))
    lines = [
        paragraph(
            f"One full run of `{run.bench['command']}` ({_machine(run.bench)}, compiled backend) on a "
            "shared machine. `E4` / `E64`: an event message of 4 / 64 small events; `P`: a process "
            "message; `S`: a status message; `A1M` / `A16M`: one event carrying a 1 MiB / 16 MiB array; "
            "all of the reference schema. `E4n` / `E4sub`: `E4` as noob 1003's own `EventMsg`, its "
            "events of a root epoch / of a two-level sub-epoch (wire-format version 2; the JSON row is "
            "then noob's own `to_bytes()` / `from_bytes()`)."
        ),
        "",
        "| encode + decode | " + " | ".join(f"`{workload}`" for workload in workloads) + " |",
        "|---" * (len(workloads) + 1) + "|",
    ]
    for title, codec, than in _README_ROWS:
        if codec is None:
            cells = [duration(run.row(workload, "compiled").total_us) for workload in workloads]
        else:
            cells = [f"{times(run.ratio(workload, codec, than))}{_TIMES}" for workload in workloads]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def readme_pipeline(run: Run) -> str:
    ratios = _round_ratios(_pipeline(run, "A16M")["rates"], "noobwire", "noob")
    return paragraph(
        "Through noob's own `ZMQRunner` (`noobwire bench --pipeline`), `install()` moves a 16 MiB array "
        f"from node to node {spread(ratios)} times as many times a second as noob alone ({len(ratios)} "
        "rounds, taking turns), by sending it as a frame of its own without a copy; see the pipeline "
        "section of [Benchmarks](docs/benchmarks.md)."
    )


def readme_headline(run: Run) -> str:
    return f"some {run.ratio('E4n', 'json'):.0f} times"


def benchmarks_run(run: Run) -> str:
    text = report.format_report(run.results, run.bench.get("missing", {})).rstrip("\n")
    intro = paragraph(
        f"One full run of `{run.bench['command']}` ({_machine(run.bench)}, compiled backend; noobwire "
        f"{run.bench['noobwire']}) on a shared machine. Absolute times move with the machine's load; the "
        "ratios, measured in the same run, move much less. The chart was drawn by the same run (`--plot`)."
    )
    return "\n".join([intro, "", "```text", text, "```"])


def benchmarks_targets(run: Run) -> str:
    def against_msgspec(time: str) -> str:
        return ", ".join(times(run.ratio(w, "compiled", "msgspec", time)) for w in ("E4", "E64", "P"))

    frames_path = ", ".join(
        f"{times(run.ratio(w, 'frames'))} (`{w}`)" for w in ("E4n", "E4sub", "P") if _has(run, w, "frames")
    )
    return paragraph(
        "How it stands against the targets in this run: the compiled backend encodes `E4`, `E64` and "
        f"`P` in {against_msgspec('encode_us')} of msgspec's time, and decodes them in "
        f"{against_msgspec('decode_us')} of it. `E4` encode + decode is "
        f"{times(run.ratio('E4', 'json'))} times faster than the reference JSON; the pure backend "
        f"{times(run.ratio('E4', 'json', 'pure'))} times. On noob 1003's own messages the compiled backend "
        f"is {times(run.ratio('E4n', 'json'))} (`E4n`) and {times(run.ratio('E4sub', 'json'))} (`E4sub`) "
        "times faster than noob's own `to_bytes()` / `from_bytes()`, and "
        f"{times(run.ratio('E4n', 'msgspec'))} and {times(run.ratio('E4sub', 'msgspec'))} times faster "
        "than msgspec, whose schema must carry noob's `Epoch` objects through its `enc_hook` / "
        f"`dec_hook`. The runner's path, `encode_frames` + `decode_frames`, costs {frames_path} times the "
        f"plain codec; an array as frames costs {duration(run.row('A1M', 'frames').total_us)} (`A1M`) and "
        f"{duration(run.row('A16M', 'frames').total_us)} (`A16M`), whatever its size (neither side "
        "copies it)."
    )


def _has(run: Run, workload: str, codec: str) -> bool:
    try:
        run.row(workload, codec)
    except KeyError:
        return False
    return True


def benchmarks_pipeline(run: Run) -> str:
    results = bench_pipeline.results_from_json(run.pipelines)
    lines = [
        paragraph(
            f"One full run (`{run.pipelines['command']}`, {_machine(run.pipelines)}, compiled backend):"
        ),
        "",
        "```text",
        bench_pipeline.format_pipeline_report(results).rstrip("\n"),
        "```",
        "",
    ]
    for result in results:
        if "noobwire" not in result.rates or "noob" not in result.rates:
            continue
        ratios = _round_ratios(result.rates, "noobwire", "noob")
        lines.append(
            "- "
            + paragraph(
                f"`{result.pipeline}`: with noobwire, {spread(ratios)} times noob alone's rate "
                f"(median {times(statistics.median(ratios))}, {len(ratios)} rounds); noob alone "
                f"{spread(result.rates['noob'])} epochs a second, with noobwire "
                f"{spread(result.rates['noobwire'])}."
            ).replace("\n", "\n  ")
        )
    return "\n".join(lines)


def benchmarks_zmq(run: Run) -> str:
    from noobwire.bench.throughput import SENDER_NAMES, format_throughput

    races = run.zmq["races"]
    tables = "\n\n".join(
        format_throughput(race["title"], race["rates"], SENDER_NAMES, race["nbytes"]) for race in races
    )
    zero_copy = [race for race in races if race["race"].startswith("zero-copy")]
    cells = []
    for race in zero_copy:
        frames = statistics.median(_round_ratios(race["rates"], "frames", "raw"))
        ceiling = statistics.median(_round_ratios(race["rates"], "raw2", "raw"))
        cells.append(
            f"{frames:.2f} of raw over `{race['transport']}://` (the two-frame ceiling: {ceiling:.2f})"
        )
    return "\n".join(
        [
            paragraph(f"From one run (`{run.zmq['command']}`, {_machine(run.zmq)}, compiled backend):"),
            "",
            "```text",
            tables,
            "```",
            "",
            paragraph("`A16M` with noobwire's zero-copy frames: " + "; ".join(cells) + "."),
        ]
    )


def guide_pure(run: Run) -> str:
    hot = [
        run.ratio(workload, "pure")
        for workload in ("E4", "E64", "P", "E4n", "E4sub")
        if _has(run, workload, "pure")
    ]
    return f"about {spread(hot)} times slower than compiled"


def benchmarks_runner(run: Run) -> str:
    runner_path = _benchmark("runner_path")
    record = run.runner_path
    table = runner_path.format_rows(runner_path.rows(record["samples_us"]))
    small = _pipeline(run, "small")["rates"]
    ratios = _round_ratios(small, "noobwire", "noob")
    small_row = runner_path.Row(
        f"small pipeline: ZMQRunner with the hook / alone, least of {len(ratios)}",
        min(ratios),
        "x",
        1.0,
        at_most=False,
    )
    small_line = runner_path.format_rows([small_row]).splitlines()[1]
    lines = [
        paragraph(
            f"From one run of `{record['command']}` ({_machine(record)}, compiled backend, "
            f"{record['rounds']} rounds), and the `small` pipeline of the pipeline run below "
            f"({len(ratios)} rounds, the runners taking turns):"
        ),
        "",
        "```text",
        table,
        small_line,
        *(f"  not measured: {name}: {why}" for name, why in record.get("missing", {}).items()),
        "```",
    ]
    return "\n".join(lines)


REGIONS: dict[tuple[str, str], Callable[[Run], str]] = {
    ("README.md", "headline"): readme_headline,
    ("README.md", "speed"): readme_speed,
    ("README.md", "pipeline"): readme_pipeline,
    ("docs/benchmarks.md", "run"): benchmarks_run,
    ("docs/benchmarks.md", "targets"): benchmarks_targets,
    ("docs/benchmarks.md", "runner"): benchmarks_runner,
    ("docs/benchmarks.md", "pipeline"): benchmarks_pipeline,
    ("docs/benchmarks.md", "zmq"): benchmarks_zmq,
    ("docs/guide/with-noob.md", "pure"): guide_pure,
}
"""Each page's regions and what writes each from the run."""


def _region(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- bench:{name} -->)(\n?)(.*?)(<!-- /bench:{name} -->)", re.S)


def rendered(root: Path = ROOT, run: Run | None = None) -> dict[str, str]:
    """Each page with regions, as ``render`` writes it from the run saved under ``root``."""
    run = run or load(root)
    pages: dict[str, str] = {}
    for (page, name), write in REGIONS.items():
        text = pages.get(page) or (root / page).read_text("utf-8")
        pattern = _region(name)
        if not pattern.search(text):
            raise SystemExit(f"{page} has no region <!-- bench:{name} --> ... <!-- /bench:{name} -->")
        figures = write(run)
        # A region whose start marker ends its line holds lines; one inside a line, a few words.
        pages[page] = pattern.sub(
            lambda m, figures=figures: m[1] + m[2] + figures + m[2] + m[4], text, count=1
        )
    return pages


def render(root: Path = ROOT) -> list[str]:
    """Write the figures into the pages; returns the pages that changed."""
    changed = []
    for page, text in rendered(root).items():
        path = root / page
        if path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
            changed.append(page)
    return changed


def differing(root: Path = ROOT) -> list[str]:
    """The pages whose figures are not what ``render`` writes from the saved run."""
    return [page for page, text in rendered(root).items() if (root / page).read_text("utf-8") != text]


# --- recording -------------------------------------------------------------------------------------


def _benchmark(name: str, root: Path = ROOT) -> Any:
    """The module ``benchmarks/NAME.py`` (a script of the benchmarks, not a package)."""
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", root / "benchmarks" / f"{name}.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"benchmarks/{name}.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def _noobwire(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "noobwire", *arguments], cwd=ROOT, check=True)


def _stamp(path: Path, command: str) -> None:
    record = json.loads(path.read_text("utf-8"))
    record["command"] = command
    path.write_text(json.dumps(record, indent=1) + "\n", "utf-8")


def record(root: Path = ROOT, quick: bool = False) -> None:
    """Run the benchmarks and save what they measured under ``docs/bench/``, then render (``quick``:
    the short runs, to try this script; the pages then say so)."""
    folder = root / RECORD
    folder.mkdir(parents=True, exist_ok=True)
    short = ["--quick"] if quick else []
    _noobwire("bench", *short, "--json", str(folder / "run.json"), "--plot", "docs/bench.png")
    _stamp(folder / "run.json", " ".join(["noobwire bench", *short]))
    _noobwire("bench", "--pipeline", *short, "--json", str(folder / "pipeline.json"))
    _stamp(folder / "pipeline.json", " ".join(["noobwire bench --pipeline", *short]))
    rounds = 3 if quick else ZMQ_ROUNDS
    zmq_races = _benchmark("test_zmq", root)
    print("the runner path ...", file=sys.stderr)
    runner_rounds = 5 if quick else 15
    subprocess.run(
        [
            sys.executable,
            "benchmarks/runner_path.py",
            "--rounds",
            str(runner_rounds),
            "--json",
            str(folder / "runner_path.json"),
        ],
        cwd=root,
        check=True,
    )
    print(f"ZeroMQ races, {rounds} rounds ...", file=sys.stderr)
    races = zmq_races.interleaved_races(rounds)
    zmq_record = {"command": f"python benchmarks/test_zmq.py {rounds}", **report.machine(), "races": races}
    (folder / "zmq.json").write_text(json.dumps(zmq_record, indent=1) + "\n", "utf-8")
    print("rendered: " + (", ".join(render(root)) or "nothing changed"), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["record", "render", "check"])
    parser.add_argument("--quick", action="store_true", help="record: the short runs, to try the script")
    args = parser.parse_args(argv)
    if args.action == "record":
        record(quick=args.quick)
    elif args.action == "render":
        print("rendered: " + (", ".join(render()) or "nothing changed"))
    else:
        stale = differing()
        if stale:
            print("figures that are not the recorded run's: " + ", ".join(stale), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
