"""Make docs/explorer.png: the web explorer exploring a word, answering an analogy and comparing
two sentences, in Debian's chromium driven by Playwright.

    python docs/screenshot.py /tmp/enwiki-sg docs/explorer.png   # serves the model itself
    python docs/screenshot.py 8000 docs/explorer.png             # a server already on :8000

TARGET is a model (served on a free loopback port for the while), a port on 127.0.0.1, or the
URL of a running `wordspace serve`.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
from playwright.sync_api import expect, sync_playwright


@contextlib.contextmanager
def server(target: str) -> Iterator[str]:
    """The base URL of ``target``: a URL or port as it is, or a model served meanwhile."""
    if target.isdigit():
        yield f"http://127.0.0.1:{target}"
        return
    if target.startswith(("http://", "https://")):
        yield target.rstrip("/")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "wordspace.cli", "serve", target, "--port", str(port)]
    process = subprocess.Popen([*command, "--no-access-log"])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"wordspace serve stopped (exit status {process.returncode})")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("wordspace serve did not start within 120 s")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="a model path, a port on 127.0.0.1 or a server's URL")
    parser.add_argument("out", help="the PNG to write")
    parser.add_argument("--word", default="guitar", help="the word to explore")
    parser.add_argument("-k", type=int, default=15, help="its neighbours shown")
    parser.add_argument(
        "--analogy", nargs=3, default=["man", "king", "woman"], metavar=("A", "B", "C")
    )
    parser.add_argument(
        "--sentences",
        nargs=2,
        default=["the river flows into the sea", "a small stream runs down to the lake"],
    )
    parser.add_argument("--size", default="1280x900", help="the viewport, WIDTHxHEIGHT")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the browser to drive")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.split("x"))
    with server(args.target) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{url}/")
        page.fill("#k", str(args.k))
        page.fill("#word", args.word)
        page.press("#word", "Enter")
        expect(page.locator("#map svg circle")).to_have_count(args.k + 1)
        for name, word in zip("abc", args.analogy, strict=True):
            page.fill(f"#analogy-{name}", word)
        page.click("#analogy-form button[type=submit]")
        expect(page.locator("#analogy-results li").first).to_be_visible()
        page.fill("#sentence-a", args.sentences[0])
        page.fill("#sentence-b", args.sentences[1])
        page.click("#sentence-form button[type=submit]")
        expect(page.locator("#sentence-result .near")).to_have_count(2)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=args.out, full_page=True)
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
