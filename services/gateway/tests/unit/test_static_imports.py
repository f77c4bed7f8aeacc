"""The web app's import-linter (scripts/check_js_imports.py): imports only go down, and only
core/api.js writes the API's addresses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHECKER = Path(__file__).resolve().parents[4] / "scripts" / "check_js_imports.py"


def check(root: Path | None = None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(CHECKER), *([str(root)] if root else [])]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def tree(root: Path, files: dict[str, str]) -> Path:
    base = {
        "app.js": 'import { start } from "./core/router.js";\nstart(() => import("./pages/a.js"));',
        "core/router.js": 'import { h } from "./dom.js";\nexport const start = h;\n',
        "core/dom.js": "export const h = () => null;\n",
        "ui/pick.js": 'import { h } from "../core/dom.js";\nexport const pick = h;\n',
        "pages/a.js": 'import { pick } from "../ui/pick.js";\nexport const a = pick;\n',
        "pages/b.js": "export const b = 1;\n",
    }
    for path, text in {**base, **files}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def test_the_app_as_it_is_imports_only_downward() -> None:
    ran = check()
    assert ran.returncode == 0, ran.stdout


def test_a_tree_that_imports_downward_passes(tmp_path: Path) -> None:
    ran = check(tree(tmp_path, {}))
    assert (ran.returncode, ran.stdout) == (0, "")


@pytest.mark.parametrize(
    ("path", "text", "said"),
    [
        ("core/dom.js", 'import { pick } from "../ui/pick.js";\n', "core/ may import only core/"),
        ("core/dom.js", 'export { a } from "../pages/a.js";\n', "core/ may import only core/"),
        (
            "core/dom.js",
            'const a = () => import("../pages/a.js");\n',
            "core/ may import only core/",
        ),
        (
            "ui/pick.js",
            'import {\n  b,\n} from "../pages/b.js";\n',
            "ui/ may import only core/ and ui/",
        ),
        ("pages/a.js", 'import { b } from "./b.js";\n', "a page never imports another page"),
        ("pages/a.js", "const load = (x) => import(x);\n", "string literal"),
        ("pages/a.js", 'import "../../outside.js";\n', "names no file of the app"),
        ("pages/a.js", 'import { x } from "/static/core/dom.js";\n', "not a relative path"),
        ("pages/a.js", "const u = `/api/feed?${q}`;\n", "an API address outside core/api.js"),
    ],
)
def test_an_upward_or_unseeable_import_fails(
    tmp_path: Path, path: str, text: str, said: str
) -> None:
    ran = check(tree(tmp_path, {path: text}))
    assert ran.returncode == 1
    assert said in ran.stdout and path in ran.stdout, ran.stdout


def test_strings_and_exports_that_are_not_imports_are_left_alone(tmp_path: Path) -> None:
    text = 'export const s = "../pages/b.js";\nexport const t = "from ../pages/b.js";\n'
    ran = check(tree(tmp_path, {"core/dom.js": text}))
    assert (ran.returncode, ran.stdout) == (0, "")
