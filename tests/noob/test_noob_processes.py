"""``install()`` reaches the processes a runner starts, by fork, spawn and forkserver, through the start-up
hook that noobwire installs (``noobwire_install.pth``); and the hook costs nothing when it is not asked for.

Each test runs ``noob_processes.py`` (or a one-liner) in a fresh interpreter, with the stand-in on
``PYTHONPATH``, so that the hook runs as it does in a new process of a user's runner.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from standin import STANDIN_MODULE, standin_source, write_standin_package

SCRIPT = Path(__file__).with_name("noob_processes.py")
START_METHODS = [
    method for method in ("fork", "spawn", "forkserver") if method in multiprocessing.get_all_start_methods()
]
MSGPACK_FRAME = "9601"  # a noobwire frame starts with a 6-element array and version 1
JSON_FRAME = "7b"  # "{"


@pytest.fixture(scope="module")
def standin_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_standin_package(tmp_path_factory.mktemp("standin"))


def _run(args: list[str], path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NOOBWIRE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(path), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update(environment)
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _parent_and_child(
    start_method: str, mode: str, path: Path, module: str = STANDIN_MODULE, **environment: str
) -> dict[str, Any]:
    done = _run([str(SCRIPT), start_method, module, mode], path, **environment)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert report["exitcode"] == 0
    return report


def _assert_both_speak_noobwire(report: dict[str, Any]) -> None:
    parent, child = report["parent"], report["child"]
    assert parent["installed"]
    assert child["installed"]
    assert parent["frame"].startswith(MSGPACK_FRAME)
    assert child["status_frame"].startswith(MSGPACK_FRAME)
    assert child["event_frame"].startswith(MSGPACK_FRAME)
    assert child["received"] == "ErrorMsg"
    assert child["received_is_their_error_msg"]
    assert child["exception"] == "KeyError('k')"
    assert parent["status_is_their_status_msg"]
    assert parent["no_event_is_theirs"]


def test_the_startup_hook_is_installed() -> None:
    """pip puts noobwire_install.pth in site-packages; without it, spawned children stay unpatched."""
    paths = sysconfig.get_paths()
    places = {paths["purelib"], paths["platlib"], *site.getsitepackages(), site.getusersitepackages()}
    found = [place for place in places if Path(place, "noobwire_install.pth").is_file()]
    assert found, f"noobwire_install.pth is in none of {sorted(places)}: noobwire was not installed with pip"
    text = Path(found[0], "noobwire_install.pth").read_text()
    assert text.startswith("import os; ")
    assert "_noobwire_install" in text


@pytest.mark.parametrize("start_method", START_METHODS)
def test_install_reaches_the_child(start_method: str, standin_root: Path) -> None:
    report = _parent_and_child(start_method, "install", standin_root)
    _assert_both_speak_noobwire(report)
    assert report["child"]["environment"] == STANDIN_MODULE
    if start_method != "fork":  # a forked child is a copy of the parent, which had no hook at start-up
        assert report["child"]["startup_hook_loaded"]


@pytest.mark.parametrize("start_method", [m for m in ("spawn", "forkserver") if m in START_METHODS])
def test_without_install_both_speak_json(start_method: str, standin_root: Path) -> None:
    report = _parent_and_child(start_method, "none", standin_root)
    parent, child = report["parent"], report["child"]
    assert not parent["installed"]
    assert not child["installed"]
    assert not child["startup_hook_loaded"]
    assert parent["frame"].startswith(JSON_FRAME)
    assert child["status_frame"].startswith(JSON_FRAME)
    assert child["event_frame"].startswith(JSON_FRAME)
    assert child["received_is_their_error_msg"]
    assert parent["status_is_their_status_msg"]


def test_after_uninstall_a_new_child_speaks_json(standin_root: Path) -> None:
    report = _parent_and_child("spawn", "uninstall", standin_root)
    child = report["child"]
    assert not report["parent"]["installed"]
    assert not child["installed"]
    assert child["environment"] is None
    assert not child["startup_hook_loaded"]
    assert child["status_frame"].startswith(JSON_FRAME)


@pytest.mark.parametrize("start_method", [m for m in ("spawn", "forkserver") if m in START_METHODS])
def test_noobwire_install_1_patches_noob_in_every_process(
    start_method: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``NOOBWIRE_INSTALL=1`` set by hand: a runner that never calls install() (here a stand-in named
    ``noob``, ahead of any installed noob on the path) is patched in the parent and in each child."""
    root = write_standin_package(tmp_path_factory.mktemp("as_noob"), package="noob")
    report = _parent_and_child(
        start_method, "none", root, module="noob.network.message", NOOBWIRE_INSTALL="1"
    )
    _assert_both_speak_noobwire(report)
    assert report["child"]["environment"] == "1"


def test_the_startup_hook_imports_nothing_unless_asked(standin_root: Path) -> None:
    probe = (
        "import json, sys; print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('noobwire', '_noobwire_install', 'pydantic', 'msgpack', 'noobstandin'))))"
    )
    assert json.loads(_run(["-c", probe], standin_root).stdout) == []
    assert json.loads(_run(["-c", probe], standin_root, NOOBWIRE_INSTALL="0").stdout) == ["_noobwire_install"]
    # asked: the hook waits for the message module, and imports noobwire only then
    asked = _run(["-c", probe], standin_root, NOOBWIRE_INSTALL=STANDIN_MODULE)
    assert json.loads(asked.stdout) == ["_noobwire_install"]
    importing = _run(
        [
            "-c",
            f"import {STANDIN_MODULE} as m, sys; print(type(m.Message.__dict__['to_bytes']).__module__, "
            "m.Message.to_bytes.__module__)",
        ],
        standin_root,
        NOOBWIRE_INSTALL=STANDIN_MODULE,
    )
    assert importing.stdout.split() == ["builtins", "noobwire.noob.install"], importing.stderr


def test_the_startup_hook_leaves_a_module_whose_schema_differs_as_it_is(tmp_path: Path) -> None:
    """The import works, with one warning naming what differs, and the module keeps its own codec."""
    source = standin_source({'    error = "error"\n': '    error = "error"\n    spec = "spec"\n'})
    root = write_standin_package(tmp_path, package="noobdiffers", source=source)
    script = (
        "import noobdiffers.network.message as m, noobwire.noob;"
        "print(m.Message.to_bytes.__name__, noobwire.noob.active_installation())"
    )
    done = _run(["-W", "default", "-c", script], root, NOOBWIRE_INSTALL="noobdiffers.network.message")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["_reference_to_bytes", "None"]
    assert (
        done.stderr.count("RuntimeWarning: noobwire was not installed into noobdiffers.network.message") == 1
    )
    assert "MessageType: members this schema does not have: spec" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_startup_hook_ignores_a_value_that_is_not_a_module_name(standin_root: Path) -> None:
    done = _run(["-c", "print('ran')"], standin_root, NOOBWIRE_INSTALL="not a module!")
    assert done.returncode == 0
    assert done.stdout.strip() == "ran"
    assert "ignoring NOOBWIRE_INSTALL='not a module!'" in done.stderr
