"""``noobwire schema``: the JSON schemas of the reference, all twelve or one."""

from __future__ import annotations

import json

import pytest

from helpers import TESTS_DIR
from noobwire.cli import main

SCHEMAS = json.loads((TESTS_DIR / "message-schemas.json").read_text())


def test_all_twelve_schemas_are_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == sorted(SCHEMAS)
    assert printed == SCHEMAS


@pytest.mark.parametrize(
    ("name", "title"), [("EventMsg", "EventMsg"), ("event", "EventMsg"), ("Message", "Message")]
)
def test_one_schema_by_class_or_message_type(
    capsys: pytest.CaptureFixture[str], name: str, title: str
) -> None:
    assert main(["schema", name]) == 0
    assert json.loads(capsys.readouterr().out) == SCHEMAS[title]


def test_an_unknown_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "SpecMsg"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("noobwire schema: no model 'SpecMsg'; one of Message, AnnounceMsg")
