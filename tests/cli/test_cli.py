"""The ``noobwire`` command as a whole: ``--help``, ``--version``, ``python -m noobwire``, closed pipes."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version

import pytest

import noobwire
from noobwire.cli import main

COMMANDS = ("bench", "inspect", "schema")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "noobwire", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_help_lists_each_command_once_with_an_example() -> None:
    done = run("--help")
    assert done.returncode == 0
    for command in COMMANDS:
        assert len(re.findall(rf"^\s+{command}\s+\S", done.stdout, flags=re.MULTILINE)) == 1, command
    for example in ("noobwire bench --quick", "noobwire inspect --hex frame.hex", "noobwire schema EventMsg"):
        assert example in done.stdout


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("bench", "noobwire bench --json raw.json --plot chart.svg"),
        ("inspect", "noobwire inspect --json frame.bin"),
        ("schema", "noobwire schema EventMsg"),
    ],
)
def test_each_command_explains_itself_with_examples(command: str, example: str) -> None:
    done = run(command, "--help")
    assert done.returncode == 0
    assert example in done.stdout


def test_version_comes_from_the_installed_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    assert noobwire.__version__ == version("noobwire")
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"noobwire {version('noobwire')}\n"
    done = run("--version")
    assert (done.returncode, done.stdout) == (0, f"noobwire {version('noobwire')}\n")


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = noobwire.nope  # type: ignore[attr-defined]


def test_a_command_is_required() -> None:
    done = run()
    assert done.returncode == 2
    assert "the following arguments are required: COMMAND" in done.stderr


def test_an_unknown_option_is_named_before_the_missing_command() -> None:
    done = run("--bogus")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: noobwire [-h]")
    assert "noobwire: error: unrecognized arguments: --bogus" in done.stderr
    assert "required" not in done.stderr


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("rest", [["f"], []], ids=["with its argument", "without it"])
def test_an_unknown_option_of_a_command_gets_that_commands_usage(command: str, rest: list[str]) -> None:
    """Named first, by the command it was given to (argparse showed noobwire's own usage, and without
    the command's argument said only that it was missing)."""
    done = run(command, "--bogus", *rest)
    assert done.returncode == 2
    assert done.stderr.startswith(f"usage: noobwire {command} ")
    assert f"noobwire {command}: error: unrecognized arguments: --bogus" in done.stderr


def test_an_unknown_option_before_the_command_is_noobwires_own() -> None:
    done = run("--bogus", "schema")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: noobwire [-h]")
    assert "noobwire: error: unrecognized arguments: --bogus" in done.stderr


def test_an_abbreviated_option_is_still_known(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--qu", "--seconds=x"])
    assert exit_info.value.code == 2
    assert "argument --seconds" in capsys.readouterr().err  # not 'unrecognized arguments: --qu'


@pytest.mark.parametrize(
    "argv",
    [["schema"], ["bench", "--workload", "S", "--codec", "pure", "--seconds", "0.01", "--repeats", "1"]],
)
def test_a_reader_that_stops_reading_is_not_an_error(argv: list[str]) -> None:
    # `noobwire schema | head -1`: the pipe closes early; no traceback, exit status 0, for every command.
    command = [sys.executable, "-m", "noobwire", *argv]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        process.stdout.close()  # before the command writes anything
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 0, errors.decode()
    assert b"Traceback" not in errors
    assert b"BrokenPipeError" not in errors
