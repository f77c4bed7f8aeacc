"""The web app's files: read, versioned and compressed once when the app is made.

Every file under ``static/`` is answered at ``/static/<path>``, from memory. A file's address
carries ``?v=<version>``, a hash over the file and every module it imports (directly or not,
statically or by ``import()``), so any change to what the file runs changes its address:
``index.html`` and every import specifier are rewritten at startup to the versioned addresses,
and an answer to the current version may be cached for a year. Any other request for a file
(no version, or an old one) is answered ``no-cache`` with its ETag, as is the page itself
(``/`` and ``/join``), so a new release is picked up at the next visit. Module identity in the
browser is the full URL, so every importer of a file names the same version of it: one copy of
the shared state.

Only paths in the table read at startup are answered, so no request can name a file outside
``static/`` (or one added after startup). Files are sent gzip-compressed when the browser
accepts it and that is smaller.

The service worker (``sw.js``) is answered at ``/sw.js``, ``no-cache``: a worker's scope is
the folder it is served from, and it must see navigations to ``/``. The server writes its
first line: the app shell's versioned addresses (the files the page and the offline page
name) and a version over every file, so each release installs a new worker, which drops the
old one's cache.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, Request, Response
from schoolgate_kit.problems import NotFound

PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
COMPRESSIBLE = {".js", ".css", ".html", ".svg", ".json", ".webmanifest"}
# `import x from "./a.js"`, `export … from "./a.js"`, `import "./a.js"` and `import("./a.js")`:
# only relative specifiers, which are the app's own files.
SPECIFIER = re.compile(
    r"""(?P<lead>\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(?P<q>["'])(?P<spec>\.{1,2}/[^"'?#]+)(?P=q)"""
)
# the page names its files by their address under /static/
PAGE_REFERENCE = re.compile(r"""(?P<attr>\b(?:src|href)=)"/static/(?P<path>[^"?#]+)\"""")
# where the entry's modules are named, and the pages named for preloading
PRELOAD = re.compile(
    r"""<!-- modulepreload -->|<link rel="modulepreload" href="/static/(?P<path>[^"?#]+)">"""
)
WORKER = "sw.js"
# the worker's first line, which the server writes (see _worker)
WORKER_SHELL = re.compile(r"^const SHELL = .*;$", re.M)
SHELL_PAGES = ("index.html", "offline.html")
VERSIONED_REFERENCE = re.compile(r"""\b(?:src|href)="(/static/[^"?#]+\?v=[0-9a-f]+)\"""")


@dataclass(frozen=True)
class Asset:
    media_type: str
    body: bytes
    gzipped: bytes | None
    etag: str
    version: str


def _imports(path: str, text: str) -> list[tuple[bool, str]]:
    """(dynamic?, path under static/) for each module a module imports; never above static/."""
    found = []
    for match in SPECIFIER.finditer(text):
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), match["spec"]))
        if not target.startswith("../"):
            found.append(("(" in match["lead"], target))
    return found


def _closure(path: str, graph: dict[str, list[str]]) -> list[str]:
    seen: set[str] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen or current not in graph:
            continue
        seen.add(current)
        todo.extend(graph[current])
    return sorted(seen)


def _walk(root: Traversable, prefix: str = "") -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for entry in root.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.update(_walk(entry, f"{name}/"))
        elif entry.is_file():
            found[name] = entry.read_bytes()
    return found


def _asset(path: str, body: bytes, version: str) -> Asset:
    extension = posixpath.splitext(path)[1]
    gzipped = None
    if extension in COMPRESSIBLE:
        # mtime=0: the same file always compresses to the same bytes
        squeezed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = squeezed if len(squeezed) < len(body) else None
    digest = hashlib.sha256(body).hexdigest()[:32]
    return Asset(
        media_type=MEDIA_TYPES.get(extension, "application/octet-stream"),
        body=body,
        gzipped=gzipped,
        etag=f'"{digest}"',
        version=version,
    )


class StaticFiles:
    """The app's files as they are served, built once from the files under ``root``."""

    def __init__(self, raw: dict[str, bytes]) -> None:
        modules = {path: body.decode() for path, body in raw.items() if path.endswith(".js")}
        graph = {path: [t for _, t in _imports(path, text)] for path, text in modules.items()}
        versions: dict[str, str] = {}
        for path in raw:
            digest = hashlib.sha256()
            for part in _closure(path, graph) if path in graph else [path]:
                digest.update(part.encode() + b"\0" + raw[part] + b"\0")
            versions[path] = digest.hexdigest()[:16]
        self.versions = versions
        self._static_graph = {
            path: [t for dynamic, t in _imports(path, text) if not dynamic]
            for path, text in modules.items()
        }
        self.assets: dict[str, Asset] = {}
        for path, body in raw.items():
            if path in modules:
                body = self._rewrite_imports(path, modules[path]).encode()
            elif path.endswith(".html"):
                body = self._rewrite_page(body.decode()).encode()
            self.assets[path] = _asset(path, body, versions[path])
        # answered at /sw.js only: at /static/sw.js its scope would be /static/
        self.worker: Asset | None = None
        if WORKER in raw:
            self.worker = _asset(WORKER, self._worker(raw[WORKER].decode()), versions[WORKER])
            del self.assets[WORKER]

    @classmethod
    def load(cls, root: Traversable | None = None) -> StaticFiles:
        return cls(_walk(root or files("schoolgate_gateway").joinpath("static")))

    def url(self, path: str) -> str:
        return f"{PREFIX}{path}?v={self.versions[path]}"

    def _rewrite_imports(self, path: str, text: str) -> str:
        def versioned(match: re.Match[str]) -> str:
            spec = match["spec"]
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
            if target not in self.versions:
                return match[0]
            return f"{match['lead']}{match['q']}{spec}?v={self.versions[target]}{match['q']}"

        return SPECIFIER.sub(versioned, text)

    def _rewrite_page(self, text: str) -> str:
        # Each level of imports costs a round trip on a slow phone: the page names every module
        # the entry needs before it runs (at the mark), and after each page it names for
        # preloading, that page's own modules not named before. A browser has six connections
        # to a server over HTTP/1.1, so the order is the order of need: the entry's, the first
        # pages'. Other pages wait until their route opens (dynamic imports are not followed).
        named = {m["path"] for m in PRELOAD.finditer(text) if m["path"]}
        seen = {"app.js", *named}

        def expanded(match: re.Match[str]) -> str:
            needed = _closure(match["path"] or "app.js", self._static_graph)
            fresh = [p for p in needed if p not in seen]
            seen.update(fresh)
            links = [f'<link rel="modulepreload" href="{PREFIX}{p}">' for p in fresh]
            return "\n  ".join(([match[0]] if match["path"] else []) + links)

        def versioned(match: re.Match[str]) -> str:
            path = match["path"]
            if path not in self.versions:
                return match[0]
            return f'{match["attr"]}"{self.url(path)}"'

        return PAGE_REFERENCE.sub(versioned, PRELOAD.sub(expanded, text))

    def _worker(self, text: str) -> bytes:
        if not all(page in self.assets for page in SHELL_PAGES):
            raise ValueError(f"{WORKER} needs the pages it keeps: {', '.join(SHELL_PAGES)}")
        shell = {self.url("offline.html")}
        for page in SHELL_PAGES:
            shell.update(VERSIONED_REFERENCE.findall(self.assets[page].body.decode()))
        everything = hashlib.sha256(json.dumps(sorted(self.versions.items())).encode())
        line = json.dumps(
            {
                "version": everything.hexdigest()[:16],
                "offline": self.url("offline.html"),
                "files": sorted(shell),
            }
        )
        written, count = WORKER_SHELL.subn(lambda _: f"const SHELL = {line};", text)
        if count != 1:
            raise ValueError(f"{WORKER} must have one line `const SHELL = …;`")
        return written.encode()

    def answer(self, request: Request, path: str) -> Response:
        asset = self.assets.get(path)
        if asset is None:
            raise NotFound("There is no such file.")
        current = request.query_params.get("v") == asset.version
        return _respond(request, asset, IMMUTABLE if current else REVALIDATE)

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)

        @router.get("/")
        async def home(request: Request) -> Response:
            return _respond(request, self.assets["index.html"], REVALIDATE)

        @router.get("/join")
        async def join_page(request: Request) -> Response:
            """The address on invite letters: the app opens on the join steps, code filled."""
            return _respond(request, self.assets["index.html"], REVALIDATE)

        @router.get("/sw.js")
        async def worker(request: Request) -> Response:
            if self.worker is None:
                raise NotFound("There is no such file.")
            return _respond(request, self.worker, REVALIDATE)

        @router.get("/style.css")
        async def style(request: Request) -> Response:
            # the printable pupil-card page names the style sheet by its old address
            return _respond(request, self.assets["style.css"], REVALIDATE)

        @router.get(PREFIX + "{path:path}")
        async def static_file(request: Request, path: str) -> Response:
            return self.answer(request, path)

        return router


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in {"gzip", "*"}:
            continue
        quality = params.strip().lower()
        if quality.startswith("q="):
            try:
                return float(quality[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    # If-None-Match compares weakly: W/"x" matches "x"
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags


def _respond(request: Request, asset: Asset, cache_control: str) -> Response:
    zipped = asset.gzipped is not None and _accepts_gzip(request)
    # each representation has its own strong validator
    etag = f'{asset.etag[:-1]}-gzip"' if zipped else asset.etag
    headers = {"etag": etag, "cache-control": cache_control, "vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["content-encoding"] = "gzip"
    body = asset.gzipped if zipped and asset.gzipped is not None else asset.body
    return Response(body, media_type=asset.media_type, headers=headers)
