"""The web app's own unit tests (services/gateway/tests/js, Node's built-in runner), run by pytest
so that `make test` reports them with everything else."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = Path(__file__).resolve().parent.parent / "js"


def test_the_front_ends_core_modules_pass_their_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for the web app's tests: install the nodejs package")
    tests = sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))
    assert tests, "no JavaScript tests found"
    ran = subprocess.run(
        [node, "--test", "--test-reporter=tap", *tests],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-2000:]
    assert "# fail 0" in ran.stdout
