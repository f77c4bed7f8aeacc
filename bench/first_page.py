"""Bytes and time to the first usable page, cold, on Chrome's "Slow 3G" profile, for the sign-in
page and a parent's first page: the web app as native modules beside the one-file app it was
(commit 9b3e936, the last with the monolith), each served by its own code in the same run.

The profile is DevTools' own preset, as Puppeteer copies it (``PredefinedNetworkConditions
['Slow 3G']``: download and upload 500 kbit/s x 0.8 = 50,000 bytes/s, latency 400 ms x 5 =
2,000 ms), applied by CDP's ``Network.emulateNetworkConditions``: every request waits at least
2 s for its answer, so each round trip the page needs before it can be used costs 2 s.

"Usable" is the moment the app has drawn its page: the main view holds its heading and is no
longer busy (the sign-in form, or the parent's children with their points). A page observer
installed before the page loads records ``performance.now()`` then (from the start of the
navigation); bytes are what crossed the network by then (CDP's encodedDataLength: headers and
compressed bodies). Cold means a new browser profile each time: nothing cached. The parent's
session cookie is made beforehand, unthrottled, as a parent who signed in last week has one.

A few page loads: two builds x two pages x ``repeat`` (3; 1 with --quick), median reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, async_playwright

from bench.common import Detail, Result
from bench.serving import serving

NAME = "first_page"
ROOT = Path(__file__).resolve().parent.parent
MONOLITH = "9b3e936"  # the last commit whose web app was one app.js
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SLOW_3G = {
    "offline": False,
    "latency": 400 * 5,
    "downloadThroughput": 500 * 1000 / 8 * 0.8,
    "uploadThroughput": 500 * 1000 / 8 * 0.8,
}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
TARGET_SECONDS = 2.0
# The app shows a page by replacing #view's children and then dropping aria-busy; the loading
# placeholder has no heading. Runs before any of the page's own scripts.
OBSERVER = """
(() => {
  const check = () => {
    const view = document.getElementById("view");
    if (!window.__usable && view && !view.hasAttribute("aria-busy") && view.querySelector("h1")) {
      window.__usable = performance.now();
    }
  };
  const all = { subtree: true, childList: true, attributes: true };
  new MutationObserver(check).observe(document, all);
})();
"""
SRC_DIRS = [
    "contracts/src",
    "kit/src",
    "embedded/src",
    *(
        f"services/{s}/src"
        for s in ("gateway", "roster", "consent", "points", "stories", "messaging", "notifications")
    ),
]


def _monolith_tree(here: Path) -> Path:
    """The sources at the monolith's commit, unpacked from git (nothing kept in the repo)."""
    tree = here / "monolith"
    if not tree.exists():
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", MONOLITH, *SRC_DIRS],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
    return tree


def _embedded(
    name: str, here: Path, python_path: str | None
) -> contextlib.AbstractContextManager[str]:
    """Schoolgate as `make demo` starts it, on a fresh data directory; its URL once ready."""
    data = here / f"{name}-data"
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SCHOOLGATE_DATA_DIR": str(data),
        "SCHOOLGATE_ENVIRONMENT": "development",
        "SCHOOLGATE_DEMO": "1",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
    }
    if python_path:
        env["PYTHONPATH"] = python_path  # ahead of the workspace's own editable installs
    return serving(name, ["schoolgate_embedded"], env, here)


def _session_cookie(base: str) -> list[dict[str, Any]]:
    answer = httpx.post(f"{base}/api/session", json=PARENT, timeout=30)
    answer.raise_for_status()
    return [
        {"name": c.name, "value": c.value or "", "url": base}
        for c in answer.cookies.jar  # the session (and the device) cookie
    ]


async def _load(browser: Browser, base: str, *, parent: bool) -> dict[str, Any]:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        if parent:
            await context.add_cookies(_session_cookie(base))  # type: ignore[arg-type]
        page = await context.new_page()
        await page.add_init_script(OBSERVER)
        cdp = await context.new_cdp_session(page)
        urls: dict[str, str] = {}
        sizes: dict[str, float] = {}
        cdp.on(
            "Network.requestWillBeSent",
            lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
        )
        await cdp.send("Network.enable")
        await cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        await page.goto(base + "/", wait_until="commit", timeout=120_000)
        await page.wait_for_function("() => window.__usable", timeout=120_000, polling=50)
        usable_ms = await page.evaluate("() => window.__usable")
        finished = {urls.get(r, "?"): size for r, size in sizes.items()}
        heading = await page.locator("#view h1").first.inner_text()
    finally:
        await context.close()
    scripts = sorted(u.split("/static/")[-1].split("?")[0] for u in finished if ".js" in u)
    return {
        "seconds": usable_ms / 1000,
        "bytes": sum(finished.values()),
        "requests": len(finished),
        # the page asks for /api/me while its modules load (a preload): once, if it is used
        "me_requests": sum(1 for u in urls.values() if u.endswith("/api/me")),
        "scripts": scripts,
        "heading": heading,
    }


async def _measure(browser: Browser, base: str, *, parent: bool, repeat: int) -> dict[str, Any]:
    loads = [await _load(browser, base, parent=parent) for _ in range(repeat)]
    loads.sort(key=lambda load: load["seconds"])
    middle = loads[(len(loads) - 1) // 2]
    return {**middle, "runs": ", ".join(f"{load['seconds']:.2f}" for load in loads)}


async def run(workdir: Path, *, quick: bool) -> list[Result]:
    repeat = 1 if quick else 3
    here = workdir / NAME
    here.mkdir(parents=True, exist_ok=True)
    old_path = os.pathsep.join(str(_monolith_tree(here) / d) for d in SRC_DIRS)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for build, python_path in (("modules", None), ("monolith", old_path)):
                with _embedded(build, here, python_path) as base:
                    for who, parent in (("sign-in", False), ("parent", True)):
                        found[build, who] = await _measure(
                            browser, base, parent=parent, repeat=repeat
                        )
        finally:
            await browser.close()
    results = []
    for who, title in (("sign-in", "sign-in page"), ("parent", "a parent's first page")):
        new, old = found["modules", who], found["monolith", who]
        details: dict[str, Detail] = {
            "runs_seconds": new["runs"],
            "monolith_runs_seconds": old["runs"],
            "kilobytes": new["bytes"] / 1000,
            "monolith_kilobytes": old["bytes"] / 1000,
            "requests": new["requests"],
            "monolith_requests": old["requests"],
            "scripts": len(new["scripts"]),
            "api_me_requests": new["me_requests"],
            "page_heading": new["heading"],
            "staff_tools_downloaded": ", ".join(
                s for s in new["scripts"] if s in {"pages/import.js", "pages/award.js"}
            )
            or "none",
        }
        results += [
            Result(
                name=f"{NAME} {title}",
                unit="ms",
                figure=new["seconds"] * 1000,
                baseline=old["seconds"] * 1000,
                baseline_label=f"the one-file app.js ({MONOLITH}), same run",
                target=f"< {TARGET_SECONDS * 1000:.0f} ms cold on Slow 3G",
                met=new["seconds"] < TARGET_SECONDS,
                higher_is_better=False,
                details=details,
            ),
            Result(
                name=f"{NAME} {title} bytes",
                unit="KB",
                figure=new["bytes"] / 1000,
                baseline=old["bytes"] / 1000,
                baseline_label=f"the one-file app.js ({MONOLITH}), same run",
                target="(fewer is better)",
                met=None,
                higher_is_better=False,
            ),
        ]
    return results


def main() -> None:
    """``python -m bench.first_page``: this benchmark alone, its figures printed."""
    work = Path(os.environ.get("TMPDIR", "/tmp")) / "schoolgate-first-page"
    for result in asyncio.run(run(work, quick="--quick" in sys.argv)):
        print(
            result.name, f"{result.figure:,.1f} {result.unit}", "beside", f"{result.baseline:,.1f}"
        )
        for key, value in result.details.items():
            print("   ", key, value)


if __name__ == "__main__":
    main()
