"""Benchmark of the answering pages on a slow link: bytes transferred and time, in a real Chromium.

Run: .venv/bin/python benchmarks/slow_link.py [--latency-ms 400] [--kbit-s 400] [--chromium /usr/bin/chromium]

Prepares a demo database of its own (SQLite in a temporary instance folder, with the app's commands), starts a
bare gunicorn on a free loopback port (no reverse proxy: what the app itself sends) and drives Chromium through
Playwright with Chromium's network emulation (Chrome DevTools Protocol `Network.emulateNetworkConditions`):
400 ms of latency and 400 kbit/s each way by default. It measures, as the demo focal point of Mexico:

- the sign-in page on a cold cache: the baseline every other figure is divided by;
- the OP4 section page on a cold cache (first load) and again (second load, the browser's cache warm);
- the largest section page of the questionnaire (found by the size of its HTML), cold cache;
- the review's home page, cold and warm;
- one autosave: from a change on the OP4 page to its "Saved" status, with the requests it took.

Bytes are those on the wire (headers and bodies as sent, compressed or not), as Chromium counts them.
The server and the temporary folder are removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EMAIL, PASSWORD = "focal.point@example.org", "review-mechanism-demo"
SECTION = "OP4"
CHOICE_QUESTION = "4.1"  # a yes/no/partial question of OP4, saved by the autosave measure
COMMAND_TIMEOUT = 180.0
STARTUP_TIMEOUT = 30.0
PAGE_TIMEOUT_MS = 120_000
GOALS = {  # issue 13: what the figures should be
    "OP4 first load": ("≤ 60 KB", lambda m, ops: m.bytes <= 60 * 1024),
    "OP4 second load": ("≤ 15 KB", lambda m, ops: m.bytes <= 15 * 1024),
    "largest section page": ("≤ 2 × OP4", lambda m, ops: m.bytes <= 2 * ops.bytes),
}


class BenchmarkError(RuntimeError):
    """Something the benchmark needs did not happen; the message says what."""


@dataclass
class Measure:
    """One page load (or one save): bytes received on the wire, requests that reached the server, seconds."""

    label: str
    bytes: int
    requests: int
    seconds: float


class Wire:
    """Counts what Chromium receives and the requests that reach the server, from DevTools network events."""

    def __init__(self, cdp) -> None:
        self.bytes = 0
        self.sent = 0
        self.cached = 0
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", self._cached)

    def _finished(self, event) -> None:
        self.bytes += int(event.get("encodedDataLength") or 0)

    def _sent(self, event) -> None:
        self.sent += 1

    def _cached(self, event) -> None:
        self.cached += 1

    @property
    def requests(self) -> int:
        """Requests that went to the server (the browser's cache answered the others)."""
        return self.sent - self.cached

    def reset(self) -> None:
        """Start counting again."""
        self.bytes = self.sent = self.cached = 0


def run_command(arguments: list[str], env: dict[str, str]) -> None:
    """Run one of the app's commands; raise with its output if it fails."""
    done = subprocess.run([str(BIN / "reviewmech"), *arguments], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT, check=False)
    if done.returncode != 0:
        raise BenchmarkError(f"reviewmech {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(base_url: str, server: subprocess.Popen, log: Path) -> None:
    """Wait until GET /healthz answers 200."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchmarkError(f"gunicorn stopped with status {server.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise BenchmarkError(f"GET /healthz did not answer within {STARTUP_TIMEOUT:.0f} s:\n{log.read_text()[-4000:]}")


def load(page, wire: Wire, cdp, path: str, label: str, *, cold: bool) -> Measure:
    """Load a page and count what it cost; `cold` empties the browser's cache first."""
    if cold:
        cdp.send("Network.clearBrowserCache")
    page.wait_for_timeout(200)  # let the previous page's late events arrive before counting
    wire.reset()
    start = time.perf_counter()
    response = page.goto(path, wait_until="load", timeout=PAGE_TIMEOUT_MS)
    seconds = time.perf_counter() - start
    if response is None or response.status != 200:
        raise BenchmarkError(f"GET {path} answered {response.status if response else 'nothing'}")
    page.wait_for_timeout(200)  # loadingFinished of the last files
    return Measure(label, wire.bytes, wire.requests, seconds)


def sign_in(page) -> None:
    """Sign in through the form as the demo focal point of Mexico."""
    page.goto("/sign-in", timeout=PAGE_TIMEOUT_MS)
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/", timeout=PAGE_TIMEOUT_MS)


def review_path(page) -> str:
    """The path of the review of Mexico, from the dashboard."""
    for href in page.eval_on_selector_all("a[href^='/reviews/']", "links => links.map((a) => a.getAttribute('href'))"):
        if re.fullmatch(r"/reviews/\d+", href):
            return href
    raise BenchmarkError("the focal point's dashboard links to no review")


def largest_section(context, review: str) -> tuple[str, int]:
    """The section page with the most HTML (asked without emulation), and its uncompressed size."""
    overview = context.request.get(f"{review}/answers")
    codes = sorted(set(re.findall(rf'href="{re.escape(review)}/answers/([^"/?#]+)"', overview.text())))
    codes = [code for code in codes if code not in {"submit", "autosave"}]
    if not codes:
        raise BenchmarkError(f"{review}/answers links to no section")
    sizes = {code: len(context.request.get(f"{review}/answers/{code}", headers={"Accept-Encoding": "identity"})
                       .body()) for code in codes}
    code = max(sizes, key=sizes.get)
    return code, sizes[code]


def save_delay_ms() -> int:
    """The autosave's wait after the last change (answering.js), which is not network time."""
    found = re.search(r"SAVE_DELAY_MS\s*=\s*(\d+)", (ROOT / "reviewmech/static/js/answering.js").read_text())
    return int(found.group(1)) if found else 0


def autosave(page, wire: Wire) -> Measure:
    """Change one answer of the loaded section page and wait for its "Saved" status."""
    block = page.locator(f'.answer[data-question="{CHOICE_QUESTION}"]')
    choices = block.locator("input[type=radio]")
    target = next((choices.nth(i) for i in range(choices.count()) if not choices.nth(i).is_checked()), None)
    if target is None:
        raise BenchmarkError(f"question {CHOICE_QUESTION} has no choice left to pick")
    page.wait_for_timeout(500)
    wire.reset()
    start = time.perf_counter()
    target.check()
    block.locator("[data-status]").filter(has_text=re.compile("Saved")).wait_for(timeout=PAGE_TIMEOUT_MS)
    seconds = time.perf_counter() - start
    page.wait_for_timeout(200)
    return Measure("one autosave", wire.bytes, wire.requests, seconds)


def report(baseline: Measure, measures: list[Measure], autosaved: Measure, latency_s: float, kbit_s: int) -> None:
    """Print every figure as bytes and as a ratio to the sign-in page of the same run."""
    print(f"Slow link: {latency_s * 1000:.0f} ms latency, {kbit_s} kbit/s each way (Chromium network emulation).")
    print(f"{'page':<34}{'bytes':>9}{'× sign-in':>11}{'requests':>10}{'seconds':>9}{'× sign-in':>11}  goal")
    print(f"{'':<34}{'received':>9}{'':>11}{'to server':>10}")
    by_label = {m.label: m for m in measures}
    for m in [baseline, *measures]:
        goal, check = GOALS.get(m.label.split(" (")[0], ("", None))
        verdict = ""
        if check is not None:
            verdict = f"{goal}: {'met' if check(m, by_label['OP4 first load']) else 'NOT met'}"
        print(f"{m.label:<34}{m.bytes:>9}{m.bytes / baseline.bytes:>11.2f}{m.requests:>10}{m.seconds:>9.2f}"
              f"{m.seconds / baseline.seconds:>11.2f}  {verdict}")
    delay = save_delay_ms() / 1000
    network = max(autosaved.seconds - delay, 0.0)
    print(f"{autosaved.label:<34}{autosaved.bytes:>9}{autosaved.bytes / baseline.bytes:>11.2f}{autosaved.requests:>10}"
          f"{autosaved.seconds:>9.2f}{autosaved.seconds / baseline.seconds:>11.2f}  ≤ 2 round trips: "
          f"{'met' if autosaved.requests <= 2 else 'NOT met'}")
    print(f"  from the change to \"Saved\": {autosaved.requests} round trip(s) to the server; "
          f"{autosaved.seconds:.2f} s = "
          f"{delay:.2f} s waiting for more changes (answering.js) + {network:.2f} s on the network "
          f"({network / latency_s if latency_s else float('nan'):.1f} × the {latency_s * 1000:.0f} ms latency)")


def main() -> int:
    """Prepare, serve, measure, print; clean up whatever happens."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=400, help="latency added to each request (default 400)")
    parser.add_argument("--kbit-s", type=int, default=400, help="throughput each way in kbit/s (default 400)")
    parser.add_argument("--chromium", default=os.environ.get("REVIEWMECH_TEST_CHROMIUM", "/usr/bin/chromium"))
    options = parser.parse_args()
    if not Path(options.chromium).exists():
        print(f"slow_link: no Chromium at {options.chromium} (install Debian's chromium or pass --chromium)",
              file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    instance = Path(tempfile.mkdtemp(prefix="reviewmech-slow-link-"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("REVIEWMECH_")}
    env |= {"REVIEWMECH_INSTANCE_PATH": str(instance), "REVIEWMECH_SECRET_KEY": secrets.token_hex(16),
            "REVIEWMECH_SIGN_IN_LIMIT": "1000 per minute"}
    server = None
    try:
        for arguments in (["db", "upgrade"], ["questionnaires", "load", "questionnaires"], ["demo"]):
            run_command(arguments, env)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        log = instance / "gunicorn.log"
        with log.open("wb") as output:
            server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}",
                                       "reviewmech:create_app()"], cwd=ROOT, env=env, stdout=output,
                                      stderr=subprocess.STDOUT)
        wait_until_healthy(base_url, server, log)
        latency_s = options.latency_ms / 1000
        throughput = options.kbit_s * 1000 / 8  # bytes per second
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=options.chromium, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            wire = Wire(cdp)
            cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": options.latency_ms,
                                                          "downloadThroughput": throughput,
                                                          "uploadThroughput": throughput})
            baseline = load(page, wire, cdp, "/sign-in", "sign-in page (first load)", cold=True)
            sign_in(page)
            review = review_path(page)
            largest, largest_html = largest_section(context, review)
            measures = [
                load(page, wire, cdp, f"{review}/answers/{SECTION}", "OP4 first load", cold=True),
                load(page, wire, cdp, f"{review}/answers/{SECTION}", "OP4 second load", cold=False),
            ]
            autosaved = autosave(page, wire)
            measures += [
                load(page, wire, cdp, f"{review}/answers/{largest}", f"largest section page ({largest})", cold=True),
                load(page, wire, cdp, review, "review home first load", cold=True),
                load(page, wire, cdp, review, "review home second load", cold=False),
            ]
            browser.close()
        report(baseline, measures, autosaved, latency_s, options.kbit_s)
        print(f"  the largest section page, {largest}, has {largest_html} bytes of HTML before compression")
    except BenchmarkError as error:
        print(f"slow_link: {error}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(instance, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
