"""noob's messages as plain data, for the codecs of the benchmark that know no noob classes."""

from __future__ import annotations

from typing import Any

from noobwire._core.epochs import epoch_to_wire
from noobwire.generations import NOOB_1003

__all__ = ["plain_epochs"]


def plain_epochs(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a noob 1003 message's ``model_dump()``) with each epoch in its JSON form, noob's own."""

    def plain(epoch: Any) -> Any:
        return None if epoch is None else epoch_to_wire(NOOB_1003, epoch, "epoch")

    value = data["value"]
    if data["type"] == "event":
        value = [{**event, "epoch": plain(event["epoch"])} for event in value]
    elif data["type"] == "process":
        value = {**value, "epoch": plain(value["epoch"])}
    elif data["type"] == "epoch_ended":
        value = plain(value)
    return {**data, "value": value}
