"""The first command on a stock machine: scripts/ensure-uv.sh with the system's python3.

Debian 12 and Ubuntu 24.04 mark their python3 externally managed (PEP 668), so the bootstrap
must not need `pip install --user`. These tests run it as a new developer would: an empty home
directory, no uv anywhere, and the distribution's interpreter (the first install downloads uv
from PyPI, a few seconds).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ensure-uv.sh"
_pin = re.search(r"^UV_VERSION=(\S+)$", SCRIPT.read_text(), re.MULTILINE)
assert _pin is not None, "ensure-uv.sh names the uv release it installs"
PINNED = _pin[1]
# The distribution's own interpreter where there is one: the case the bootstrap must survive.
SYSTEM_PYTHON = Path("/usr/bin/python3") if Path("/usr/bin/python3").exists() else None
PYTHON = SYSTEM_PYTHON or Path(sys.executable)
PATH = os.pathsep.join(dict.fromkeys([str(PYTHON.parent), "/usr/bin", "/bin"]))


def stock_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment (proxy and certificate settings) as a new user would have it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("UV_", "XDG_", "VIRTUAL_ENV", "PYTHON", "SCHOOLGATE_"))
    }
    return env | {"HOME": str(home), "PATH": PATH} | extra


def bootstrap(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT)], env=env, capture_output=True, text=True, timeout=240, check=False
    )


def version_of(uv: str) -> str:
    out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A home directory in which the bootstrap has installed uv once, and the path it printed."""
    home = tmp_path_factory.mktemp("home")
    if shutil.which("uv", path=PATH) is not None:
        pytest.skip(f"a uv on {PATH} stands in the way of the fresh install tested here")
    done = bootstrap(stock_env(home))
    assert done.returncode == 0, done.stderr
    return home, done.stdout


def test_the_system_python_installs_the_pinned_uv_privately(installed: tuple[Path, str]) -> None:
    home, stdout = installed
    uv = stdout.strip()
    assert stdout == uv + "\n"  # one path and nothing else: the Makefile takes stdout whole
    assert Path(uv).is_relative_to(home / ".cache" / "schoolgate")
    assert version_of(uv) == PINNED


def test_a_second_run_reuses_the_install(installed: tuple[Path, str]) -> None:
    home, first = installed
    again = bootstrap(stock_env(home))
    assert (again.returncode, again.stdout, again.stderr) == (0, first, "")


def test_a_pinned_uv_already_on_the_path_is_used(
    installed: tuple[Path, str], tmp_path: Path
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "uv").symlink_to(installed[1].strip())
    done = bootstrap(stock_env(tmp_path / "home", PATH=f"{tools}{os.pathsep}{PATH}"))
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{tools / 'uv'}\n", "")


def test_an_older_uv_on_the_path_is_passed_over(
    installed: tuple[Path, str], tmp_path: Path
) -> None:
    home, first = installed
    tools = tmp_path / "tools"
    tools.mkdir()
    minor = ".".join(PINNED.split(".")[:2])
    older = tools / "uv"
    older.write_text(f"#!/bin/sh\necho 'uv {minor}.0'\n")  # an earlier patch release
    older.chmod(0o755)
    done = bootstrap(stock_env(home, PATH=f"{tools}{os.pathsep}{PATH}"))
    assert (done.returncode, done.stdout) == (0, first)


def test_without_python_it_says_in_one_line_what_to_install(tmp_path: Path) -> None:
    done = bootstrap(stock_env(tmp_path, SCHOOLGATE_PYTHON=str(tmp_path / "no-python3")))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "apt-get install python3" in done.stderr


def test_without_venv_it_says_in_one_line_what_to_install(tmp_path: Path) -> None:
    # `false` stands for Debian's python3 without python3-venv: `-m venv` fails.
    done = bootstrap(stock_env(tmp_path, SCHOOLGATE_PYTHON="false"))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines()[-1].endswith("run 'sudo apt-get install python3-venv'")
    assert not (tmp_path / ".cache" / "schoolgate" / f"uv-{PINNED}").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_stops_when_there_is_no_uv_instead_of_running_an_empty_command(
    tmp_path: Path,
) -> None:
    env = stock_env(tmp_path, SCHOOLGATE_PYTHON=str(tmp_path / "no-python3"))
    done = subprocess.run(
        ["make", "-C", str(ROOT), "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "sync --frozen" not in done.stdout  # make echoes each command it runs
    assert "apt-get install python3" in done.stderr
    assert "Stop." in done.stderr
