#!/usr/bin/env python3
"""The web app's import-linter: every module imports only downward (core <- ui <- pages).

core/ may import only core/; ui/ may import core/ and ui/; a page (pages/) may import core/
and ui/ but never another page: code two pages share moves down to ui/. The entry files at the
top (app.js, the page table) may import anything. Every specifier must be a relative path to a
file that exists in the tree, and a dynamic import() must name its file literally, so that this
check (and the server's versioned addresses) can see it. And one module knows the API's
addresses: no other module writes one (a string that starts with /api/).

    python scripts/check_js_imports.py [STATIC_DIR]

Prints one line per wrong import and exits 1 if there is any.
"""

from __future__ import annotations

import posixpath
import re
import sys
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / ("services/gateway/src/schoolgate_gateway/static")
MAY_IMPORT = {"core": {"core"}, "ui": {"core", "ui"}, "pages": {"core", "ui"}}
STATIC_IMPORT = re.compile(
    r"""^[ \t]*(?:import\s*|(?:import|export)\b[^;'"]*?\bfrom\s*)(["'])(?P<spec>[^"']+)\1""", re.M
)
DYNAMIC_IMPORT = re.compile(r"""\bimport\s*\(\s*(?P<arg>[^)]*?)\s*\)""")
API_OWNER = "core/api.js"
API_ADDRESS = re.compile(r"""["'`]/api/""")
LITERAL = re.compile(r"""^(["'])(?P<spec>[^"'`]+)\1$""")


def layer(path: str) -> str:
    return path.split("/", 1)[0] if "/" in path else "entry"


def specifiers(text: str) -> list[tuple[int, str | None]]:
    """(line, specifier) for each import in a module; None for an import() of no literal."""
    found: list[tuple[int, str | None]] = []
    for match in STATIC_IMPORT.finditer(text):
        found.append((text.count("\n", 0, match.start("spec")) + 1, match["spec"]))
    for match in DYNAMIC_IMPORT.finditer(text):
        literal = LITERAL.match(match["arg"])
        line = text.count("\n", 0, match.start()) + 1
        found.append((line, literal["spec"] if literal else None))
    return found


def problems(root: Path) -> list[str]:
    found = []
    modules = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.js"))
    for path in modules:
        text = (root / path).read_text(encoding="utf-8")
        if path != API_OWNER:
            for match in API_ADDRESS.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path}:{line}: an API address outside {API_OWNER}")
        for line, spec in specifiers(text):
            where = f"{path}:{line}"
            if spec is None:
                found.append(f"{where}: import() must name its module as a string literal")
                continue
            if not spec.startswith(("./", "../")):
                found.append(f"{where}: {spec!r} is not a relative path to one of the app's files")
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
            if target.startswith("../") or not (root / target).is_file():
                found.append(f"{where}: {spec!r} names no file of the app")
                continue
            source, goal = layer(path), layer(target)
            if source == "entry":
                continue
            if source == "pages" and goal == "pages":
                found.append(
                    f"{where}: {path} imports {target}: a page never imports another page "
                    "(move what they share to ui/)"
                )
            elif goal not in MAY_IMPORT.get(source, set()):
                allowed = "/ and ".join(sorted(MAY_IMPORT.get(source, ())))
                found.append(
                    f"{where}: {path} imports {target}: {source}/ may import only {allowed}/"
                )
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else STATIC
    found = problems(root)
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
