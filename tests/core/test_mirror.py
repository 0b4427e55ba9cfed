"""The pydantic mirror: the reference's classes, fields, config and JSON schemas."""

from __future__ import annotations

import json

import pytest

import noobwire
from helpers import TESTS_DIR
from noobwire import ErrorMsg, MessageType, NodeStatus

SCHEMAS = json.loads((TESTS_DIR / "message-schemas.json").read_text())


def test_the_schemas_are_the_twelve_models() -> None:
    assert set(SCHEMAS) == {"Message", *(cls.__name__ for cls in noobwire.messages.MESSAGE_CLASSES.values())}


@pytest.mark.parametrize("title", sorted(SCHEMAS))
def test_json_schema_is_the_reference(title: str) -> None:
    model = getattr(noobwire, title)
    schema = model.model_json_schema()
    assert schema == SCHEMAS[title]
    assert json.dumps(schema, indent=2, sort_keys=True) == json.dumps(
        SCHEMAS[title], indent=2, sort_keys=True
    )


@pytest.mark.parametrize("title", sorted(SCHEMAS))
def test_config_is_the_reference(title: str) -> None:
    config = getattr(noobwire, title).model_config
    assert config["use_enum_values"] is True
    assert config["validate_by_alias"] is True
    assert config["serialize_by_alias"] is True
    assert config.get("arbitrary_types_allowed", False) is (title == "ErrorMsg")


def test_fields_and_alias() -> None:
    fields = noobwire.Message.model_fields
    assert list(fields) == ["type_", "node_id", "timestamp", "value"]
    assert fields["type_"].alias == "type"
    for name, cls in noobwire.messages.MESSAGE_CLASSES.items():
        assert list(cls.model_fields) == ["type_", "node_id", "timestamp", "value"]
        assert cls(node_id="n", value=_sample_value(name)).type_ == name


def _sample_value(name: str) -> object:
    identify = {"node_id": "a", "outbox": "o", "status": "ready", "signals": None, "slots": None}
    return {
        "announce": {"inbox": "i", "nodes": {"a": identify}},
        "identify": identify,
        "process": {"epoch": 1, "input": None},
        "status": "ready",
        "event": [],
        "error": {"err_type": ValueError, "err_args": (), "traceback": ""},
    }.get(name)


def test_enum_values_are_plain_strings_after_validation() -> None:
    msg = noobwire.StatusMsg.model_validate({"type": "status", "node_id": "n", "value": "ready"})
    assert type(msg.type_) is str
    assert type(msg.value) is str
    assert msg.value == NodeStatus.ready


def test_enums_are_the_references() -> None:
    assert [m.value for m in MessageType] == [
        "announce", "identify", "process", "init", "deinit", "ping",
        "start", "status", "stop", "event", "error",
    ]  # fmt: skip
    assert [m.value for m in NodeStatus] == ["stopped", "waiting", "ready", "running", "closed"]
    assert noobwire.MetaSignal.NoEvent == "NoEvent"
    assert noobwire.META_SIGNAL == "__META__"


def test_timestamp_defaults_to_now_in_utc() -> None:
    msg = noobwire.PingMsg(node_id="n")
    assert msg.timestamp.utcoffset() is not None
    assert not msg.timestamp.utcoffset()


def test_unknown_type_is_rejected() -> None:
    with pytest.raises(noobwire.SchemaError):
        noobwire.decode(b'{"type": "bogus", "node_id": "n"}')


def test_to_exception_rebuilds_the_error_with_the_traceback_note() -> None:
    msg = ErrorMsg(
        node_id="cam",
        value={"err_type": KeyError, "err_args": ("missing", 3), "traceback": "Traceback..."},
    )
    err = msg.to_exception()
    assert type(err) is KeyError
    assert err.args == ("missing", 3)
    assert err.__notes__ == [
        "\nError re-raised from node runner process\n\nOriginal traceback:\n" + "-" * 20 + "\nTraceback..."
    ]


def test_public_names_are_importable() -> None:
    for name in [
        "MessageType", "NodeStatus", "Message", "IdentifyValue", "AnnounceValue", "ErrorValue",
        "ProcessValue", "Event", "AnnounceMsg", "IdentifyMsg", "PingMsg", "ProcessMsg", "InitMsg",
        "DeinitMsg", "StartMsg", "StatusMsg", "StopMsg", "ErrorMsg", "EventMsg",
    ]:  # fmt: skip
        assert hasattr(noobwire, name), name
