"""A script, run by test_noob_processes.py in a fresh interpreter: a parent and one child process that
speak through a noob message module (the stand-in), as a runner's command node and node runner do.

    python noob_processes.py START_METHOD MODULE MODE

MODE ``install``: the parent calls ``noobwire.noob.install()`` before starting the child; ``uninstall``:
it installs and uninstalls before; ``none``: it does neither (the environment may still ask for noobwire).
The parent sends the child an ErrorMsg frame, the child answers with a StatusMsg frame and an EventMsg
frame with noob's NoEvent, and the script prints one JSON object saying what each side saw.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import sys
from datetime import UTC, datetime
from typing import Any


def _event_msg(module: Any) -> Any:
    event = {
        "id": 1,
        "timestamp": datetime.now(UTC),
        "node_id": "child",
        "signal": "__META__",
        "epoch": 1,
        "value": module.MetaSignal.NoEvent,
    }
    return module.EventMsg(node_id="child", value=[event])


def _noobwire_installed() -> bool:
    noob = sys.modules.get("noobwire.noob")
    return noob is not None and noob.active_installation() is not None  # type: ignore[attr-defined]


def child(connection: Any, module_name: str, frame: bytes) -> None:
    """The node runner: read the command node's frame, answer with two frames of its own."""
    startup_hook_loaded = "_noobwire_install" in sys.modules
    module = importlib.import_module(module_name)
    report: dict[str, Any] = {
        "startup_hook_loaded": startup_hook_loaded,
        "installed": _noobwire_installed(),
        "environment": os.environ.get("NOOBWIRE_INSTALL"),
    }
    try:
        received = module.Message.from_bytes([b"error", frame])
    except Exception as exc:
        report["received"] = f"{type(exc).__name__}: {exc}"
    else:
        report["received"] = type(received).__qualname__
        report["received_is_their_error_msg"] = isinstance(received, module.ErrorMsg)
        report["exception"] = repr(received.to_exception())
    report["status_frame"] = module.StatusMsg(node_id="child", value="ready").to_bytes().hex()
    report["event_frame"] = _event_msg(module).to_bytes().hex()
    connection.send(report)
    connection.close()


def main(start_method: str, module_name: str, mode: str) -> dict[str, Any]:
    if mode in ("install", "uninstall"):
        import noobwire.noob

        noobwire.noob.install(module=module_name)
        if mode == "uninstall":
            noobwire.noob.uninstall()
    module = importlib.import_module(module_name)
    error = module.ErrorMsg(
        node_id="command", value={"err_type": KeyError, "err_args": ("k",), "traceback": "tb"}
    )
    frame = error.to_bytes()
    context = multiprocessing.get_context(start_method)
    parent_end, child_end = context.Pipe()
    process = context.Process(target=child, args=(child_end, module_name, frame))
    process.start()
    report = parent_end.recv()
    process.join(60)
    status = module.Message.from_bytes([bytes.fromhex(report["status_frame"])])
    event = module.Message.from_bytes([b"event", bytes.fromhex(report["event_frame"])])
    return {
        "parent": {
            "installed": _noobwire_installed(),
            "frame": frame.hex(),
            "status_is_their_status_msg": isinstance(status, module.StatusMsg),
            "no_event_is_theirs": event.value[0]["value"] is module.MetaSignal.NoEvent,
        },
        "child": report,
        "exitcode": process.exitcode,
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
