"""Writes ``tests/vectors/reference_json/noob-0.0.99999999.json``: messages and the JSON bytes that
noob 0.0.99999999 (the last published noob whose EventMsg and control values are the reference's)
writes for them, and the messages noob reads back from those bytes. It is the independent check of
the reference JSON codec: the test suite runs with the noob that ``pip install noob`` gives, which
has another schema.

Run from the repository root in an environment with noob 0.0.99999999 installed beside noobwire
(``pip install noob==0.0.99999999``); the corpus is deterministic (a seeded generator), and the script
refuses to overwrite an existing corpus.

    python tests/vectors/generate_reference_json.py
"""

from __future__ import annotations

import copy
import json
import random
import sys
import warnings
from datetime import UTC, datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # noob warns about its runtime directory on import
    from noob.network import message as noob_message

import noobwire  # noqa: E402
from noobwire import MetaSignal  # noqa: E402
from tagged import message_to_tagged  # noqa: E402

CORPUS = HERE / "reference_json" / "noob-0.0.99999999.json"
TEXTS = ["", "cam", "naïve ✓ 字", 'quote " and \\ back', "line\nbreak", "__META__", "NoEvent", "tab\t"]
STATUSES = ["stopped", "waiting", "ready", "running", "closed"]


def _datetime(rng: random.Random) -> datetime:
    base = datetime(2026, 1, 1, 12, 0, 0) + timedelta(
        seconds=rng.randrange(-(10**8), 10**8), microseconds=rng.randrange(10**6)
    )
    zone = rng.choice([UTC, None, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
    return base.replace(tzinfo=zone)


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 7, 2**31, -(2**40), 2**63 - 1])
    if kind == 3:
        return rng.choice([0.0, -0.5, 1e300, 3.25, -1e-7])
    if kind in (4, 5):
        return rng.choice(TEXTS)
    if kind in (6, 7):
        return [_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(TEXTS): _json_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def _event(rng: random.Random, index: int) -> dict[str, Any]:
    meta = rng.randrange(5) == 0
    return {
        "id": rng.randrange(2**40) + index,
        "timestamp": _datetime(rng),
        "node_id": rng.choice(TEXTS),
        "signal": "__META__" if meta else rng.choice(TEXTS),
        "epoch": rng.randrange(10**6),
        "value": MetaSignal.NoEvent if meta else _json_value(rng),
    }


def _identify(rng: random.Random) -> dict[str, Any]:
    return {
        "node_id": rng.choice(TEXTS),
        "outbox": rng.choice(TEXTS),
        "status": rng.choice(STATUSES),
        "signals": rng.choice([None, [], TEXTS[:3]]),
        "slots": rng.choice([None, ["a", "b"]]),
    }


def _messages(rng: random.Random) -> list[noobwire.Message]:
    msgs: list[noobwire.Message] = []
    for _ in range(60):
        events = [_event(rng, i) for i in range(rng.randrange(5))]
        msgs.append(noobwire.EventMsg(node_id=rng.choice(TEXTS), timestamp=_datetime(rng), value=events))
    for _ in range(10):
        msgs.append(
            noobwire.StatusMsg(
                node_id=rng.choice(TEXTS), timestamp=_datetime(rng), value=rng.choice(STATUSES)
            )
        )
        msgs.append(noobwire.StopMsg(node_id=rng.choice(TEXTS), timestamp=_datetime(rng)))
        msgs.append(
            noobwire.IdentifyMsg(node_id=rng.choice(TEXTS), timestamp=_datetime(rng), value=_identify(rng))
        )
        nodes = {rng.choice(TEXTS): _identify(rng) for _ in range(rng.randrange(3))}
        msgs.append(
            noobwire.AnnounceMsg(
                node_id=rng.choice(TEXTS),
                timestamp=_datetime(rng),
                value={"inbox": rng.choice(TEXTS), "nodes": nodes},
            )
        )
    return msgs


def _theirs(msg: noobwire.Message) -> Any:
    cls = getattr(noob_message, type(msg).__name__)
    # noob writes the meta sentinel by mutating the event it serializes: hand it a copy.
    return cls.model_validate(copy.deepcopy(msg.model_dump(by_alias=True)))


def main() -> None:
    version = metadata.version("noob")
    if version != "0.0.99999999":
        sys.exit(f"needs noob 0.0.99999999 installed, not {version}")
    if CORPUS.exists():
        sys.exit(f"{CORPUS} exists: a corpus, once written, is not rewritten")
    entries = []
    for msg in _messages(random.Random(20260201)):
        written = _theirs(msg).to_bytes()
        read_back = noob_message.Message.from_bytes([written])
        entries.append(
            {
                "message": message_to_tagged(msg),
                "json": written.decode("utf-8"),
                "read_back": json.loads(read_back.model_dump_json()),
            }
        )
    CORPUS.write_text(
        json.dumps({"writer": f"noob {version}", "entries": entries}, indent=1, ensure_ascii=False) + "\n"
    )
    print(f"wrote {len(entries)} entries to {CORPUS}")


if __name__ == "__main__":
    main()
