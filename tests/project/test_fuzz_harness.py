"""The fuzz harness still runs against the package as it is: given files instead of a corpus directory,
atheris runs each input once through the chosen target, oracle included, and exits 0 when nothing was
found. (A renamed constant once broke the harness at import, unnoticed, because nothing ran it.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgpack
import pytest

from conftest import BACKENDS
from helpers import V2_VECTORS, VECTORS

pytest.importorskip("atheris", reason="the test extra brings atheris on Linux x86-64 only")

REPO = Path(__file__).resolve().parents[2]
SEEDS = {
    "event": bytes.fromhex(VECTORS["msg_event_e4"]["hex"]),
    "v2_sub_epochs": bytes.fromhex(V2_VECTORS["msg_event_sub_epochs"]["hex"]),
    "v2_spec": bytes.fromhex(V2_VECTORS["msg_spec"]["hex"]),
    "v2_spec_of_a_tube_id": msgpack.packb(
        [*msgpack.unpackb(bytes.fromhex(V2_VECTORS["msg_spec"]["hex"]), timestamp=0)[:5], '"a-tube-id"']
    ),
    "truncated": bytes.fromhex(VECTORS["msg_event_e4"]["hex"])[:7],
    "json": b'{"type": "status", "node_id": "cam", "value": "ready"}',
}


def test_the_noob_oracle_catches_a_file_opened_while_handling(tmp_path: Path) -> None:
    """The oracle of the ``noob`` target fails an input whose handling opens a file (here, a decoder
    made to): it is not blind."""
    script = f"""
import runpy, sys
sys.argv = ["fuzz_decoders.py", "--backend", "pure", "--target", "noob"]
harness = runpy.run_path({str(REPO / "fuzz" / "fuzz_decoders.py")!r}, run_name="harness")
if harness["NOOB"] is None:
    raise SystemExit("noob is not installed")
codec = harness["NOOB"][2]
real = codec.decode
def opening(data):
    open({str(tmp_path / "touched")!r}, "w").close()
    return real(data)
codec.decode = opening
try:
    harness["_noob_target"](bytes.fromhex({V2_VECTORS["msg_status"]["hex"]!r}))
except AssertionError as exc:
    print("caught:", exc)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "caught: handling a decoded message did what it must not" in result.stdout, result.stderr[-3000:]


@pytest.mark.parametrize("target", ["combined", "pickle_on", "noob"])
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_the_harness_replays_seed_inputs_without_a_finding(
    tmp_path: Path, backend_name: str, target: str
) -> None:
    files = []
    for name, seed in SEEDS.items():
        path = tmp_path / name
        path.write_bytes(seed)
        files.append(str(path))
    harness = REPO / "fuzz" / "fuzz_decoders.py"
    command = [sys.executable, str(harness), "--backend", backend_name, "--target", target, *files]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert f"Executed {files[-1]}" in result.stderr
