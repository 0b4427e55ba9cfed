"""Writes the golden multi-frame vectors of the catalogue below that do not exist yet.

A multi-frame vector is a JSON file: ``frames``, the hex of each frame in order (the buffer frames,
then the header frame last), ``threshold``, the buffer size from which ``encode_frames`` puts a buffer
out of band, and ``message``, the typed-JSON message they decode to (``tests/tagged.py``). As with the
single-frame vectors, a vector once written is the format: this script never rewrites one. Run from the
repository root:

    python tests/vectors/multipart/generate.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))

import noobwire  # noqa: E402
from noobwire import codec, multipart  # noqa: E402
from noobwire.bench import workloads  # noqa: E402
from tagged import message_to_tagged  # noqa: E402

T = workloads.TIMESTAMP


def _event(event_id: int, signal: str, value: Any) -> dict[str, Any]:
    return {"id": event_id, "timestamp": T, "node_id": "cam", "signal": signal, "epoch": 42, "value": value}


CATALOGUE: dict[str, tuple[str, int, Any]] = {
    "process_bytes": (
        "a ProcessMsg whose input holds 8 bytes out of band (EXT_BUFFER_BYTES)",
        8,
        lambda: noobwire.ProcessMsg(
            node_id="command", timestamp=T, value={"epoch": 42, "input": {"blob": b"\x00\x01\x02\x03wire"}}
        ),
    ),
    "event_arrays": (
        "an EventMsg with a Fortran-ordered uint16 array and bytes out of band, a smaller array in-band",
        12,
        lambda: noobwire.EventMsg(
            node_id="cam",
            timestamp=T,
            value=[
                _event(
                    0,
                    "frame",
                    {
                        "image": np.asfortranarray(np.arange(6, dtype="<u2").reshape(2, 3)),
                        "raw": b"0123456789abcdef",
                        "n": 3,
                    },
                ),
                _event(1, "roi", np.array([7, 8], dtype="<u2")),
            ],
        ),
    ),
}


def main() -> None:
    frame_codec = multipart.FrameCodec(codec.get_backend("pure"))
    written = 0
    for name, (description, threshold, build) in CATALOGUE.items():
        path = HERE / f"{name}.json"
        if path.exists():
            continue
        msg = build()
        frames = frame_codec.encode_frames(msg, threshold=threshold)
        vector = {
            "name": name,
            "description": description,
            "threshold": threshold,
            "frames": [bytes(frame).hex() for frame in frames],
            "message": message_to_tagged(msg),
        }
        path.write_text(json.dumps(vector, indent=2, ensure_ascii=False) + "\n")
        written += 1
    print(f"wrote {written} new vectors; {len(CATALOGUE)} in the catalogue")


if __name__ == "__main__":
    main()
