"""The fuzz harness still runs against the package as it is: given files instead of a corpus directory,
atheris runs each input once through the chosen target, oracle included, and exits 0 when nothing was
found. (A renamed constant once broke the harness at import, unnoticed, because nothing ran it.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BACKENDS
from helpers import V2_VECTORS, VECTORS

pytest.importorskip("atheris", reason="the test extra brings atheris on Linux x86-64 only")

REPO = Path(__file__).resolve().parent.parent
SEEDS = {
    "event": bytes.fromhex(VECTORS["msg_event_e4"]["hex"]),
    "v2_sub_epochs": bytes.fromhex(V2_VECTORS["msg_event_sub_epochs"]["hex"]),
    "truncated": bytes.fromhex(VECTORS["msg_event_e4"]["hex"])[:7],
    "json": b'{"type": "status", "node_id": "cam", "value": "ready"}',
}


@pytest.mark.parametrize("target", ["combined", "pickle_on"])
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
