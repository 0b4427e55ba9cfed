"""Typed JSON: how the golden vectors write the message a frame must decode to.

Plain JSON carries null, booleans, ints (JSON integers), floats (JSON numbers with a point or an
exponent), strings, lists, and str-keyed objects. Every other kind is an object with a single key
that starts with "$":

    {"$float": "nan" | "inf" | "-inf"}            {"$bytes": "<hex>"}
    {"$tuple": [...]}  {"$set": [...]}  {"$frozenset": [...]}
    {"$dict": [[key, value], ...]}                 (any keys, in order)
    {"$datetime": "<ISO 8601>", "fold": 0|1}       ("fold" only when 1)
    {"$noevent": null}                             (MetaSignal.NoEvent)
    {"$ndarray": {"dtype": <numpy descr>, "shape": [...], "layout": "C"|"F"|"scalar",
                  "data": "<hex of the items in that layout>"}}
    {"$exception_type": "module:qualname"}
    {"$pickle": "<hex of a pickle>"}               (the object it unpickles to)

and, in the vectors of noob's generations:

    {"$epoch": <int> | [root, [node_id, n], ...]}  (the generation's epoch, by its wire form)
    {"$meta_signal": "<member name>"}              (a member of the generation's MetaSignal)
    {"$model": {...}}                              (a pydantic model, by its JSON-mode dump)

A message is {"type", "node_id", "timestamp", "value"} with typed values.
"""

from __future__ import annotations

import importlib
import json
import math
import pickle
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.format import descr_to_dtype, dtype_to_descr

import noobwire
from noobwire._core import epochs
from noobwire.generations import REFERENCE
from noobwire.layout import Generation


def to_tagged(value: Any, generation: Generation = REFERENCE) -> Any:
    """The typed-JSON form of a value (of a message of ``generation``)."""
    kind = type(value)
    if generation.epoch_class is not None and kind is generation.epoch_class:
        return {"$epoch": epochs.epoch_to_wire(generation, value, "")}
    if generation is not REFERENCE and kind is generation.meta_signal_enum:
        return {"$meta_signal": value.name}
    if generation is not REFERENCE and hasattr(value, "model_dump"):
        return {"$model": value.model_dump(mode="json", by_alias=True)}
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$float": str(value)}
    if kind is list:
        return [to_tagged(item, generation) for item in value]
    if kind is dict:
        if all(type(key) is str and not key.startswith("$") for key in value):
            return {key: to_tagged(item, generation) for key, item in value.items()}
        return {"$dict": [[to_tagged(k, generation), to_tagged(v, generation)] for k, v in value.items()]}
    if kind is tuple:
        return {"$tuple": [to_tagged(item, generation) for item in value]}
    if kind in (set, frozenset):
        return {f"${kind.__name__}": [to_tagged(item, generation) for item in value]}
    if kind is bytes:
        return {"$bytes": value.hex()}
    if kind is datetime:
        tagged: dict[str, Any] = {"$datetime": value.isoformat()}
        if value.fold:
            tagged["fold"] = 1
        return tagged
    if value is noobwire.MetaSignal.NoEvent:
        return {"$noevent": None}
    if isinstance(value, type) and issubclass(value, BaseException):
        return {"$exception_type": f"{value.__module__}:{value.__qualname__}"}
    if kind is np.ndarray or isinstance(value, np.generic):
        array = np.asarray(value)
        layout = "scalar" if isinstance(value, np.generic) else ("C" if array.flags.c_contiguous else "F")
        data = array.T.tobytes() if layout == "F" else array.tobytes()
        return {
            "$ndarray": {
                "dtype": _lists(dtype_to_descr(array.dtype)),
                "shape": list(array.shape),
                "layout": layout,
                "data": data.hex(),
            }
        }
    return {"$pickle": pickle.dumps(value, protocol=5).hex()}


def from_tagged(value: Any, generation: Generation = REFERENCE) -> Any:
    """The value a typed-JSON form stands for (in a message of ``generation``)."""
    if isinstance(value, list):
        return [from_tagged(item, generation) for item in value]
    if not isinstance(value, dict):
        return value
    tag = next(iter(value), None)
    if not (isinstance(tag, str) and tag.startswith("$")):
        return {key: from_tagged(item, generation) for key, item in value.items()}
    body = value[tag]
    if tag == "$epoch":
        return epochs.epoch_from_wire(generation, body, "a vector's epoch")
    if tag == "$meta_signal":
        return generation.meta_signal_enum[body]
    if tag == "$model":
        return body  # the message class validates it into the model
    if tag == "$float":
        return float(body)
    if tag == "$bytes":
        return bytes.fromhex(body)
    if tag == "$dict":
        return {from_tagged(k, generation): from_tagged(v, generation) for k, v in body}
    if tag == "$tuple":
        return tuple(from_tagged(item, generation) for item in body)
    if tag == "$set":
        return {from_tagged(item, generation) for item in body}
    if tag == "$frozenset":
        return frozenset(from_tagged(item, generation) for item in body)
    if tag == "$datetime":
        return datetime.fromisoformat(body).replace(fold=value.get("fold", 0))
    if tag == "$noevent":
        return noobwire.MetaSignal.NoEvent
    if tag == "$exception_type":
        module, _, qualname = body.partition(":")
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
        return found
    if tag == "$pickle":
        return pickle.loads(bytes.fromhex(body))
    if tag == "$ndarray":
        dtype = descr_to_dtype(_tuples(body["dtype"]))
        data = bytes.fromhex(body["data"])
        array = np.frombuffer(data, dtype=dtype).copy()
        if body["layout"] == "scalar":
            return array.reshape(())[()]
        return array.reshape(body["shape"], order="F" if body["layout"] == "F" else "C")
    raise ValueError(f"unknown tag {tag}")


def message_to_tagged(msg: Any, generation: Generation = REFERENCE) -> dict[str, Any]:
    return {
        "type": str(msg.type_),
        "node_id": msg.node_id,
        "timestamp": to_tagged(msg.timestamp, generation),
        "value": to_tagged(msg.value, generation),
    }


def message_from_tagged(tagged: dict[str, Any], generation: Generation = REFERENCE) -> Any:
    """The message a vector decodes to, built by its class's own validation."""
    cls = generation.classes[tagged["type"]]
    return cls(
        node_id=tagged["node_id"],
        timestamp=from_tagged(tagged["timestamp"], generation),
        value=from_tagged(tagged["value"], generation),
    )


def _lists(descr: Any) -> Any:
    if isinstance(descr, list | tuple):
        return [_lists(item) for item in descr]
    return descr


def _tuples(descr: Any) -> Any:
    """numpy wants the fields of a structured descr as tuples (and shapes as tuples)."""
    if isinstance(descr, str):
        return descr
    fields = []
    for field in descr:
        name = tuple(field[0]) if isinstance(field[0], list) else field[0]
        if len(field) == 3:
            fields.append((name, _tuples(field[1]), tuple(field[2])))
        else:
            fields.append((name, _tuples(field[1])))
    return fields


def write_vectors(
    folder: Path,
    catalogue: dict[str, tuple[str, Callable[[], Any]]],
    rejected: dict[str, tuple[str, str]],
    generation: Generation = REFERENCE,
) -> None:
    """Write the golden vectors of ``catalogue`` (a name to a description and what builds its message)
    and ``rejected`` (a name to a description and a frame's hex) that ``folder`` does not hold yet: a
    vector, once written, is the format, and is never rewritten."""
    written = 0
    (folder / "rejected").mkdir(parents=True, exist_ok=True)
    for name, (description, build) in catalogue.items():
        path = folder / f"{name}.json"
        if path.exists():
            continue
        msg = build()
        vector = {
            "name": name,
            "description": description,
            "hex": noobwire.get_backend("pure").encode(msg, generation, noobwire.Options()).hex(),
            "message": message_to_tagged(msg, generation),
        }
        path.write_text(json.dumps(vector, indent=2, ensure_ascii=False) + "\n")
        written += 1
    for name, (description, frame_hex) in rejected.items():
        path = folder / "rejected" / f"{name}.json"
        if path.exists():
            continue
        vector = {"name": name, "description": description, "hex": frame_hex, "error": "DecodeError"}
        path.write_text(json.dumps(vector, indent=2) + "\n")
        written += 1
    print(f"wrote {written} new vectors; {len(catalogue)} + {len(rejected)} rejected in the catalogues")
