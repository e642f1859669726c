"""Open every page of the built book in headless Chromium, offline, and fail on anything a reader would see broken.

    python scripts/check_site.py [_build/html] [--out screenshots] [--max-mb 3] [--width 800]

Serves the HTML on localhost as a static host would (text files gzip-compressed) and blocks every request that is not to localhost. For each page of the
book (every book/**/*.html, plus index.html which redirects to the landing page) it waits for MathJax
and fails on: a browser console error or uncaught page error, a failed or blocked request (HTTP >= 400
included), an image that did not load or has no alt text, more than --max-mb transferred (bytes on the
wire, compressed as served, cold cache), horizontal
overflow at --width px (the page itself, or content wider than its column), and math left untypeset.
Saves a full-page screenshot of every page and prints one line per page. Exit status 1 on any failure.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import shutil
import sys
import threading
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]

# content boxes that overflow their column: wider than the article, not inside a scrolling box
OVERFLOW_JS = """() => {
  const de = document.documentElement;
  const out = [];
  if (de.scrollWidth > de.clientWidth + 1) out.push(`page ${de.scrollWidth}px > ${de.clientWidth}px`);
  const main = document.querySelector('article') || document.querySelector('main') || document.body;
  const right = main.getBoundingClientRect().right + 1;
  for (const el of main.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= right) continue;
    let p = el.parentElement, clipped = false;
    while (p && p !== main) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll' || ox === 'hidden') { clipped = true; break; }
      p = p.parentElement;
    }
    if (!clipped) { out.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(r.right)}px`); break; }
  }
  for (const el of main.querySelectorAll('pre, .output, table, .cell_output, mjx-container[display="true"]')) {
    if (el.scrollWidth > el.clientWidth + 2 && el.clientWidth > 0)
      { out.push(`${el.tagName.toLowerCase()} scrolls: ${el.scrollWidth}px in ${el.clientWidth}px`); break; }
  }
  return out;
}"""


class Gzip(http.server.SimpleHTTPRequestHandler):
    """A static host as the book would have (GitHub Pages, nginx): text files gzip-compressed on request."""
    TEXT = {".html", ".js", ".css", ".json", ".svg", ".txt", ".map", ".woff"}

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if path.suffix in self.TEXT and path.is_file() and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(path.read_bytes(), compresslevel=6)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            super().do_GET()


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def pages_of(site: Path) -> list[str]:
    return ["index.html"] + sorted(str(p.relative_to(site)) for p in (site / "book").rglob("*.html"))


def check_page(page, base, rel, width, max_mb, shot) -> tuple[list[str], str]:
    errors, failed, sizes = [], [], {}
    page.on("console", lambda m: errors.append(m.text[:160]) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {str(e)[:160]}"))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))

    def finished(r):
        try:
            s = r.sizes()
            sizes[r.url] = s["responseBodySize"] + s["responseHeadersSize"]
        except Exception:
            pass
        resp = r.response()
        if resp is not None and resp.status >= 400:
            failed.append(f"{r.url} (HTTP {resp.status})")
    page.on("requestfinished", finished)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(base + rel, wait_until="load")
    if rel == "index.html":
        page.wait_for_url("**/book/intro.html", timeout=10000)
        page.wait_for_load_state("load")
    problems = []
    if page.evaluate("document.querySelectorAll('.math, div.math, span.math').length > 0"):
        try:
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise "
                                   "&& document.querySelectorAll('mjx-container').length > 0", timeout=20000)
            page.evaluate("MathJax.startup.promise")
        except Exception:
            problems.append("MathJax did not typeset the page's math")
    page.wait_for_timeout(300)
    n_math = page.evaluate("document.querySelectorAll('mjx-container').length")
    imgs = page.evaluate("Array.from(document.images).map(i => [i.src, i.complete && i.naturalWidth > 0, "
                         "(i.getAttribute('alt') || '').trim()])")
    broken = [src for src, ok, _ in imgs if not ok]
    no_alt = [src for src, _, alt in imgs if not alt or alt.endswith((".png", ".svg", ".jpg"))]
    overflow = page.evaluate(OVERFLOW_JS)
    mb = sum(sizes.values()) / 2 ** 20
    n_scripts = page.evaluate("document.scripts.length")
    page.screenshot(path=str(shot), full_page=True)
    if errors:
        problems.append(f"{len(errors)} console error(s), e.g. {errors[0]}")
    if failed:
        problems.append(f"{len(failed)} failed request(s), e.g. {failed[0]}")
    if broken:
        problems.append(f"{len(broken)} image(s) did not load, e.g. {broken[0]}")
    if no_alt:
        problems.append(f"{len(no_alt)} image(s) without alt text, e.g. {no_alt[0]}")
    if mb > max_mb:
        problems.append(f"{mb:.1f} MB transferred (limit {max_mb} MB)")
    if overflow:
        problems.append(f"horizontal overflow at {width}px: {overflow[0]}")
    line = (f"{rel}: {mb:.2f} MB, {len(sizes)} requests, {n_scripts} scripts, {len(errors)} console errors, "
            f"{len(failed)} failed, {n_math} formulas, {len(imgs)} images -> {shot}")
    return [f"{rel}: {p}" for p in problems], line


def check(site: Path, out: Path, width: int = 800, max_mb: float = 3.0) -> list[str]:
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Gzip, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    problems = []
    out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=FLAGS)
            for rel in pages_of(site):
                context = browser.new_context()  # a cold cache per page: transfer sizes are first visits
                page = context.new_page()
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
                shot = out / (rel.replace("/", "_").replace(".html", "") + ".png")
                found, line = check_page(page, base, rel, width, max_mb, shot)
                print(line)
                problems += found
                context.close()
            browser.close()
    finally:
        server.shutdown()
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("site", nargs="?", default="_build/html")
    ap.add_argument("--out", default="screenshots")
    ap.add_argument("--width", type=int, default=800)
    ap.add_argument("--max-mb", type=float, default=3.0)
    a = ap.parse_args()
    if chromium_path() is None:
        print("no chromium found: install Debian's 'chromium' package (make test tries apt-get)", file=sys.stderr)
        return 1
    problems = check(Path(a.site), Path(a.out), a.width, a.max_mb)
    for p in problems:
        print("FAIL", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
