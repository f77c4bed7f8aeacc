"""The web app's files as a browser gets them: versioned, validated, compressed, and only them."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import posixpath
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from schoolgate_gateway.entrypoints.static import StaticFiles
from schoolgate_kit.app import Kit, create_service_app
from schoolgate_kit.problems import MEDIA_TYPE
from schoolgate_kit.settings import Settings

YEAR = "public, max-age=31536000, immutable"


@contextlib.contextmanager
def serving(files: StaticFiles) -> Iterator[str]:
    """The files behind the service kit's app (its guard, headers and problems), on a free port."""
    settings = Settings()
    kit = Kit(name="gateway", settings=settings, clock=lambda: datetime.now(UTC))
    app = create_service_app(kit, routers=[files.router()])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        thread.join(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serving(StaticFiles.load()) as url:
        yield url


@pytest.fixture
def client(base: str) -> Iterator[httpx.Client]:
    # httpx asks for gzip by default; these tests say what they accept
    with httpx.Client(base_url=base, headers={"accept-encoding": "identity"}) as c:
        yield c


def referenced(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', page)


def test_the_page_is_revalidated_and_names_its_files_by_version(client: httpx.Client) -> None:
    for address in ("/", "/join"):
        page = client.get(address)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
        assert page.headers["etag"].startswith('"')
        assert "content-security-policy" in page.headers
    urls = referenced(client.get("/").text)
    assert "/static/app.js" in {u.split("?")[0] for u in urls}
    named = {u.split("?")[0] for u in urls}
    # the entry's modules and the two first pages are asked for at once; no staff tool is
    assert {"/static/core/router.js", "/static/pages/sign-in.js", "/static/ui/points.js"} <= named
    assert not named & {"/static/pages/import.js", "/static/pages/award.js"}
    for url in urls:
        assert re.fullmatch(r"/static/[\w/.-]+\?v=[0-9a-f]{16}", url), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == YEAR


def test_every_import_names_a_served_file_at_its_current_version(client: httpx.Client) -> None:
    files = StaticFiles.load()
    seen = 0
    for path, asset in files.assets.items():
        if not path.endswith(".js"):
            continue
        for spec in re.findall(
            r"""(?:from|import)\s*\(?\s*["'](\.[^"']+)["']""", asset.body.decode()
        ):
            target, _, version = spec.partition("?v=")
            normal = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            assert version == files.versions[normal], (path, spec)
            answer = client.get(f"/static/{normal}", params={"v": version})
            assert answer.status_code == 200 and answer.headers["cache-control"] == YEAR
            seen += 1
    assert seen > 100  # the pages' imports were all looked at


def test_an_unversioned_or_old_address_is_revalidated(client: httpx.Client) -> None:
    for params in ({}, {"v": "0123456789abcdef"}):
        answer = client.get("/static/core/router.js", params=params)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-cache"
        assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/style.css").headers["cache-control"] == "no-cache"  # the card page's


def test_a_matching_validator_gets_304_and_no_body(client: httpx.Client) -> None:
    first = client.get("/static/app.js")
    etag = first.headers["etag"]
    for sent in (etag, f"W/{etag}", f'"nothing", {etag}', "*"):
        again = client.get("/static/app.js", headers={"if-none-match": sent})
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["vary"] == "Accept-Encoding"
    other = client.get("/static/app.js", headers={"if-none-match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content
    page = client.get("/", headers={"if-none-match": client.get("/").headers["etag"]})
    assert page.status_code == 304


def test_gzip_only_when_accepted_with_its_own_validator(client: httpx.Client) -> None:
    plain = client.get("/static/pages/import.js")
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    raw = client.build_request(
        "GET", "/static/pages/import.js", headers={"accept-encoding": "br, gzip;q=0.8"}
    )
    zipped = client.send(raw, stream=True)
    body = b"".join(zipped.iter_raw())  # as sent, not decoded
    zipped.close()
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain.content
    assert len(body) < len(plain.content) / 2
    assert zipped.headers["etag"] != plain.headers["etag"]
    for refused in ("gzip;q=0", "identity", "br", ""):
        answer = client.get("/static/pages/import.js", headers={"accept-encoding": refused})
        assert "content-encoding" not in answer.headers, refused
        assert answer.content == plain.content


@pytest.mark.parametrize(
    "target",
    [
        "/static/../entrypoints/static.py",
        "/static/%2e%2e/entrypoints/static.py",
        "/static/..%2fentrypoints%2fstatic.py",
        "/static/core/../../entrypoints/static.py",
        "/static/core/%2e%2e/%2e%2e/__init__.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/..\\entrypoints\\static.py",
        "/static/core",
        "/static/",
        "/static/core/nothing-here.js",
    ],
)
def test_no_address_reaches_beyond_the_files_read_at_startup(base: str, target: str) -> None:
    # http.client sends the target as written: httpx would tidy the dots away first
    host = urlsplit(base)
    connection = http.client.HTTPConnection(host.hostname or "", host.port)
    try:
        connection.request("GET", target)
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    assert answer.status in (400, 404), (target, answer.status)
    assert answer.getheader("content-type") == MEDIA_TYPE
    assert b"import" not in body and b"root:" not in body


def test_files_are_read_once_and_a_change_below_changes_the_address_above(tmp_path: Path) -> None:
    (tmp_path / "core").mkdir()
    (tmp_path / "index.html").write_text('<script src="/static/app.js" type="module"></script>')
    (tmp_path / "app.js").write_text('import { a } from "./core/a.js";\na();\n')
    (tmp_path / "core" / "a.js").write_text('import { b } from "./b.js";\nexport const a = b;\n')
    (tmp_path / "core" / "b.js").write_text("export const b = () => 1;\n")
    before = StaticFiles.load(tmp_path)
    (tmp_path / "core" / "b.js").write_text("export const b = () => 2;\n")
    after = StaticFiles.load(tmp_path)

    assert before.versions["core/b.js"] != after.versions["core/b.js"]
    assert before.versions["core/a.js"] != after.versions["core/a.js"]
    assert before.versions["app.js"] != after.versions["app.js"]
    assert f"./b.js?v={after.versions['core/b.js']}" in after.assets["core/a.js"].body.decode()
    assert (
        f"/static/app.js?v={after.versions['app.js']}" in after.assets["index.html"].body.decode()
    )
    assert before.assets["core/b.js"].body == b"export const b = () => 1;\n"  # read once, kept


def test_the_page_names_the_modules_it_needs_in_the_order_it_needs_them(tmp_path: Path) -> None:
    (tmp_path / "core").mkdir()
    (tmp_path / "ui").mkdir()
    (tmp_path / "pages").mkdir()
    (tmp_path / "index.html").write_text(
        '<script src="/static/app.js" type="module"></script>\n<!-- modulepreload -->\n'
        '<link rel="modulepreload" href="/static/pages/p.js">\n'
    )
    (tmp_path / "app.js").write_text(
        'import { a } from "./core/a.js";\nconst p = () => import("./pages/p.js");\n'
        'const q = () => import("./pages/q.js");\n'
    )
    (tmp_path / "core" / "a.js").write_text('import { b } from "./b.js";\nexport const a = b;\n')
    (tmp_path / "core" / "b.js").write_text("export const b = 1;\n")
    (tmp_path / "ui" / "u.js").write_text(
        'import { a } from "../core/a.js";\nexport const u = a;\n'
    )
    (tmp_path / "pages" / "p.js").write_text(
        'import { u } from "../ui/u.js";\nexport const p = u;\n'
    )
    (tmp_path / "pages" / "q.js").write_text("export const q = 1;\n")

    page = StaticFiles.load(tmp_path).assets["index.html"].body.decode()

    preloaded = re.findall(r'rel="modulepreload" href="/static/([^"?]+)\?v=', page)
    # the entry's modules first, then the named page and what it adds; nothing twice, and a
    # page only imported dynamically (q) waits for its route
    assert preloaded == ["core/a.js", "core/b.js", "pages/p.js", "ui/u.js"]


def test_the_service_worker_is_served_from_the_root_and_keeps_only_the_apps_files(
    client: httpx.Client,
) -> None:
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"] == "text/javascript; charset=utf-8"
    assert worker.headers["cache-control"] == "no-cache"  # a release reaches the next visit
    assert client.get("/static/sw.js").status_code == 404  # there it would not see `/`
    line = re.search(r"^const SHELL = (.*);$", worker.text, re.M)
    assert line is not None
    shell = json.loads(line[1])
    assert shell["offline"] in shell["files"]
    named = set(referenced(client.get("/").text))
    assert named and named <= set(shell["files"])
    for url in shell["files"]:
        assert re.fullmatch(r"/static/[\w/.-]+\?v=[0-9a-f]{16}", url), url
        answer = client.get(url)
        assert answer.status_code == 200 and answer.headers["cache-control"] == YEAR, url
    manifest = client.get("/static/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"


def test_any_changed_file_makes_a_new_worker(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<script src="/static/app.js" type="module"></script>')
    (tmp_path / "offline.html").write_text('<link rel="stylesheet" href="/static/style.css">')
    (tmp_path / "style.css").write_text("p {}\n")
    (tmp_path / "app.js").write_text("export {};\n")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "p.js").write_text("export const p = 1;\n")
    (tmp_path / "sw.js").write_text('// kept\nconst SHELL = { version: "unset" };\nrest();\n')
    before = StaticFiles.load(tmp_path)
    (tmp_path / "pages" / "p.js").write_text("export const p = 2;\n")  # not in the shell
    after = StaticFiles.load(tmp_path)

    assert before.worker is not None and after.worker is not None
    text = after.worker.body.decode()
    assert text.startswith("// kept\nconst SHELL = {") and text.endswith(";\nrest();\n")
    assert before.worker.body != after.worker.body
    shell = json.loads(re.findall(r"^const SHELL = (.*);$", text, re.M)[0])
    assert shell["files"] == [after.url(p) for p in ("app.js", "offline.html", "style.css")]
