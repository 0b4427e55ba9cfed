"""The sending process of the soak test (``test_soak.py``): PUSHes E4 messages with an A1M message every so
often, each carrying its sequence number, then a StopMsg.

    python soak_sender.py ENDPOINT N_E4 N_A1M
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterator

import numpy as np

import noobwire
import zmq
from noobwire.bench.workloads import TIMESTAMP, make_workload
from noobwire.zmq import send_message


def schedule(n_e4: int, n_a1m: int) -> Iterator[str]:
    """The kind of each message in turn: ``"E4"``, with an ``"A1M"`` spread evenly among them."""
    total = n_e4 + n_a1m
    stride = total // n_a1m if n_a1m else total + 1
    sent_a1m = 0
    for seq in range(total):
        if sent_a1m < n_a1m and (seq % stride == stride - 1 or total - seq == n_a1m - sent_a1m):
            sent_a1m += 1
            yield "A1M"
        else:
            yield "E4"


def a1m_frame(seq: int, base: np.ndarray) -> np.ndarray:
    """The 1 MiB image of message ``seq``: different for each message."""
    return np.bitwise_xor(base, np.uint8(seq % 251))


def base_image() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (1024, 1024), dtype=np.uint8)


def a1m_message(seq: int, frame: np.ndarray) -> noobwire.EventMsg:
    msg = noobwire.EventMsg(node_id="cam", timestamp=TIMESTAMP, value=[])
    msg.value.append(
        {"id": seq, "timestamp": TIMESTAMP, "node_id": "cam", "signal": "frame", "epoch": seq, "value": frame}
    )
    msg.value.append(
        {
            "id": seq,
            "timestamp": TIMESTAMP,
            "node_id": "cam",
            "signal": "checksum",
            "epoch": seq,
            "value": {"seq": seq, "crc32": zlib.crc32(frame)},
        }
    )
    return msg


def main() -> None:
    endpoint, n_e4, n_a1m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    context = zmq.Context()
    push = context.socket(zmq.PUSH)
    push.setsockopt(zmq.SNDHWM, 100)
    push.connect(endpoint)
    e4 = make_workload("E4")
    base = base_image()
    for seq, kind in enumerate(schedule(n_e4, n_a1m)):
        if kind == "E4":
            e4.value[0]["value"] = seq  # frame_index
            send_message(push, e4, b"event")
        else:
            send_message(push, a1m_message(seq, a1m_frame(seq, base)), b"event")
    send_message(push, noobwire.StopMsg(node_id="cam"), b"stop")
    push.close()  # lingers until every message is sent
    context.term()


if __name__ == "__main__":
    main()
