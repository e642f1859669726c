"""Open the built book in headless Chromium with the network cut off and check it renders.

    python scripts/check_site.py [_build/html] [--out screenshots]

Serves the HTML on localhost, blocks every request that is not to localhost, opens the landing page,
one theory chapter and one figure chapter, waits for MathJax, and checks that math was typeset and
every image loaded. Saves one full-page screenshot per page. Exit status 1 on any failure.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

# index.html redirects to the landing page (book/intro.html)
PAGES = [("index.html", "book/intro.html"), ("book/theory/clt.html", None),
         ("book/figures/tables_and_figures.html", None)]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def check(site: Path, out: Path) -> list[str]:
    from playwright.sync_api import sync_playwright
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    problems, blocked = [], []
    out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=FLAGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900})

            def route(r):
                if r.request.url.startswith(base):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()
            page.route("**/*", route)
            for rel, lands_on in PAGES:
                page.goto(base + rel, wait_until="load")
                if lands_on:
                    page.wait_for_url(base + lands_on, timeout=10000)
                    page.wait_for_load_state("load")
                has_math = page.evaluate("document.querySelectorAll('.math, .MathJax, mjx-container').length > 0 "
                                         "|| document.body.innerText.includes('\\\\(')")
                if has_math:
                    try:
                        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise "
                                               "&& document.querySelectorAll('mjx-container').length > 0",
                                               timeout=20000)
                    except Exception:
                        problems.append(f"{rel}: MathJax did not typeset any math")
                n_math = page.evaluate("document.querySelectorAll('mjx-container').length")
                imgs = page.evaluate("Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0])")
                broken = [src for src, ok in imgs if not ok]
                if broken:
                    problems.append(f"{rel}: {len(broken)} image(s) did not load: {broken[:3]}")
                shot = out / (rel.replace("/", "_").replace(".html", "") + ".png")
                page.screenshot(path=str(shot), full_page=True)
                print(f"{rel}: {n_math} typeset formulas, {len(imgs)} images, {len(broken)} broken -> {shot}")
            browser.close()
    finally:
        server.shutdown()
    if blocked:
        print(f"blocked {len(blocked)} off-site request(s) (the site must not need them): {sorted(set(blocked))[:5]}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("site", nargs="?", default="_build/html")
    ap.add_argument("--out", default="screenshots")
    a = ap.parse_args()
    if chromium_path() is None:
        print("no chromium found: install Debian's 'chromium' package (make test tries apt-get)", file=sys.stderr)
        return 1
    problems = check(Path(a.site), Path(a.out))
    for p in problems:
        print("FAIL", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
