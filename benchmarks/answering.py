"""Benchmark of answering a questionnaire: the section page and autosave, against a real gunicorn.

Run: .venv/bin/python benchmarks/answering.py [--clients 8] [--requests 200] [--database-url URL]

Creates a PostgreSQL database of its own on the given (loopback) server, prepares it with the app's own
commands (db upgrade, questionnaires load, demo), starts gunicorn on a free loopback port and signs in
--clients browsers as the demo focal point of Mexico. It answers the few questions of OP4 that show its
follow-up text questions and gives each client a text question of its own (shared when there are more
clients than text questions, which makes 409 conflicts, counted apart). The clients then send,
concurrently and in interleaved rounds, --requests requests of each kind: GET /healthz (the baseline),
GET the section page OP4 and autosave a text answer of OP4. It prints latency percentiles, requests per
second, non-2xx counts and the ratios to the baseline measured in the same run, which are what compare
across machines.
The server and the database are removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv that runs this script has reviewmech and gunicorn
DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
EMAIL, PASSWORD = "focal.point@example.org", "review-mechanism-demo"
SECTION = "OP4"
# Most text questions of OP4 have a show_if; these answers (see the questionnaire) show 4.6, 4.8, 4.10, 4.12.2,
# 4.14.1, 4.16 and 4.17 next to 4.gaps, so that the clients have text questions to autosave.
SHOWING_ANSWERS = {"4.1": "partial", "4.7": "partial", "4.9": "yes", "4.11": "no", "4.13": "no", "4.15": "partial"}
HTTP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
BATCH = 5  # requests of one kind per client before switching to the next kind
WARM_UP = 2  # unmeasured requests of each kind per client
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ANSWER_TAG = re.compile(r'<div class="answer(?: [^"]*)?"[^>]*>')
ATTRIBUTE = re.compile(r'([\w-]+)(?:="([^"]*)")?')
FILLER = ("The offence of trafficking in persons is established in the Criminal Code; the courts have applied it "
          "to cases of forced labour, forced begging and the removal of organs, and to cases with child victims. ")


class BenchmarkError(RuntimeError):
    """Something the benchmark needs did not happen; the message says what was asked and answered."""


@dataclass
class Reply:
    """One HTTP answer and how long it took."""

    status: int
    body: bytes
    seconds: float

    def json(self) -> dict:
        """The body read as JSON."""
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand redirects back to the caller instead of following them."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        """Follow nothing."""
        return None


class Client:
    """One browser: its own cookies; every call has a timeout; redirects are not followed."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Reply:
        """Send one request and return its answer, whatever the status."""
        url = self.base_url + path  # always http://127.0.0.1:PORT/...
        request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)  # noqa: S310
        start = time.perf_counter()
        try:
            with self.opener.open(request, timeout=HTTP_TIMEOUT) as response:
                status, content = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read()
        except OSError as error:
            raise BenchmarkError(f"{method} {path}: no answer ({error})") from error
        return Reply(status, content, time.perf_counter() - start)


def expect(reply: Reply, statuses: set[int], what: str) -> Reply:
    """Return the reply if its status is expected; raise with the request and the body otherwise."""
    if reply.status not in statuses:
        raise BenchmarkError(f"{what} answered {reply.status}:\n{reply.body.decode(errors='replace')[:4000]}")
    return reply


def sign_in(client: Client) -> None:
    """Sign in as the demo focal point of Mexico."""
    page = expect(client.request("GET", "/sign-in"), {200}, "GET /sign-in")
    token = csrf_token(page.body.decode(), "GET /sign-in")
    form = urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD, "csrf_token": token}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    expect(client.request("POST", "/sign-in", form, headers), {302, 303}, f"POST /sign-in as {EMAIL}")


def csrf_token(html: str, what: str) -> str:
    """The first CSRF token of a page."""
    found = CSRF_INPUT.search(html)
    if found is None:
        raise BenchmarkError(f"{what}: no csrf_token input in the page")
    return found.group(1)


def answer_blocks(html: str) -> list[dict[str, str]]:
    """The attributes of every answer block of a section page (`hidden` is present when hidden)."""
    return [dict(ATTRIBUTE.findall(tag[len("<div "):-1])) for tag in ANSWER_TAG.findall(html)]


def autosave_targets(html: str) -> list[tuple[str, int]]:
    """(code, version) of the text questions that are shown (not hidden) and this person may edit."""
    return [(block["data-question"], int(block["data-version"])) for block in answer_blocks(html)
            if block.get("data-type") == "text" and block.get("data-editable") == "true" and "hidden" not in block]


@dataclass
class Worker:
    """One signed-in client, the question it autosaves and the version it last saw."""

    client: Client
    review_id: int
    token: str = ""
    question: str = ""
    version: int = 0
    saves: int = 0

    @property
    def section_path(self) -> str:
        """The section page's path."""
        return f"/reviews/{self.review_id}/answers/{SECTION}"

    def healthz(self) -> Reply:
        """The baseline: a page that only asks the database for SELECT 1."""
        return self.client.request("GET", "/healthz")

    def section(self) -> Reply:
        """The section page with its questions and answers."""
        return self.client.request("GET", self.section_path)

    def autosave_body(self) -> bytes:
        """The JSON an autosave sends: a new text and the version it replaces."""
        self.saves += 1
        value = f"Answer {self.saves} of {self.question} (benchmark). " + FILLER * 4
        return json.dumps({"value": value, "version": self.version}).encode()

    def post_answer(self, code: str, body: bytes) -> Reply:
        """POST one autosave as the page's script does."""
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.token}
        return self.client.request("POST", f"/reviews/{self.review_id}/answers/autosave/{code}", body, headers)

    def autosave(self) -> Reply:
        """Autosave this worker's question; keep the version the server answers, also after a conflict."""
        reply = self.post_answer(self.question, self.autosave_body())
        if reply.status == 200:
            self.version = reply.json()["version"]
        elif reply.status == 409:
            self.version = reply.json()["current"]["version"]
        return reply


@dataclass
class Samples:
    """The replies of one kind of request and the wall time of their batches."""

    label: str
    seconds: list[float] = field(default_factory=list)  # of the 2xx replies
    statuses: dict[int, int] = field(default_factory=dict)
    wall: float = 0.0
    first_failure: str = ""
    last_size: int = 0  # of the last 2xx body

    def add(self, reply: Reply, what: str) -> None:
        """Record one reply; keep the first unexpected one to show it."""
        if 200 <= reply.status < 300:
            self.seconds.append(reply.seconds)
            self.last_size = len(reply.body)
        self.statuses[reply.status] = self.statuses.get(reply.status, 0) + 1
        if not 200 <= reply.status < 300 and reply.status != 409 and not self.first_failure:
            self.first_failure = f"{what} answered {reply.status}:\n{reply.body.decode(errors='replace')[:4000]}"

    def percentile(self, fraction: float) -> float:
        """The value below which `fraction` of the latencies lie (nearest rank), in ms."""
        ordered = sorted(self.seconds)
        rank = max(1, round(fraction * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1] * 1e3

    def non_2xx(self) -> int:
        """How many replies were not 2xx."""
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    def summary(self, baseline: Samples) -> str:
        """One line: percentiles, throughput, failures and the ratios to the baseline."""
        if not self.seconds:
            return f"{self.label}: no 2xx answer, statuses {self.statuses}"
        line = (f"{self.label}: p50 {self.percentile(0.5):.1f} ms p90 {self.percentile(0.9):.1f} ms "
                f"p95 {self.percentile(0.95):.1f} ms p99 {self.percentile(0.99):.1f} ms "
                f"max {max(self.seconds) * 1e3:.1f} ms, "
                f"{sum(self.statuses.values()) / self.wall:.0f} req/s, non-2xx {self.non_2xx()}")
        if 409 in self.statuses:
            line += f" (409 conflicts {self.statuses[409]})"
        if self is not baseline and baseline.seconds:
            line += (f" (x{self.percentile(0.5) / baseline.percentile(0.5):.1f} healthz p50, "
                     f"x{self.percentile(0.9) / baseline.percentile(0.9):.1f} healthz p90, "
                     f"x{self.percentile(0.95) / baseline.percentile(0.95):.1f} healthz p95)")
        return line


# The server ------------------------------------------------------------------------------------

def check_loopback(url: URL) -> None:
    """Refuse a database server that is not on this machine."""
    if url.host not in LOOPBACK:
        raise BenchmarkError(f"the database server must be on a loopback address, not {url.host!r}")


def admin_execute(server_url: URL, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def app_environment(database_url: URL, instance_path: Path) -> dict[str, str]:
    """The environment of the app's processes: ours without REVIEWMECH_* settings, plus the benchmark's own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("REVIEWMECH_")}
    return env | {"REVIEWMECH_DATABASE_URL": database_url.render_as_string(hide_password=False),
                  "REVIEWMECH_INSTANCE_PATH": str(instance_path), "REVIEWMECH_SECRET_KEY": "bench"}


def run_command(arguments: list[str], env: dict[str, str]) -> None:
    """Run one of the app's commands; raise with its output if it fails."""
    try:
        done = subprocess.run([str(BIN / "reviewmech"), *arguments], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=COMMAND_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as error:
        raise BenchmarkError(f"reviewmech {' '.join(arguments)} took more than {COMMAND_TIMEOUT:.0f} s") from error
    if done.returncode != 0:
        raise BenchmarkError(f"reviewmech {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")


def prepare_database(env: dict[str, str]) -> None:
    """Create the tables, load the questionnaire and the demo data with the app's commands."""
    for arguments in (["db", "upgrade"], ["questionnaires", "load", "questionnaires"], ["demo"]):
        run_command(arguments, env)


def mexico_review_id(database_url: URL) -> int:
    """The id of the demo review of Mexico."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            review_id = connection.execute(text(
                "SELECT reviews.id FROM reviews JOIN states ON states.id = reviews.state_id "
                "WHERE states.code = 'MEX' ORDER BY reviews.id LIMIT 1")).scalar()
    finally:
        engine.dispose()
    if review_id is None:
        raise BenchmarkError("the demo created no review of Mexico")
    return review_id


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """Start gunicorn with 4 workers of 2 threads; its output goes to `log`."""
    server_env = env | {"REVIEWMECH_SIGN_IN_LIMIT": "10000 per minute"}
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "4", "--threads", "2", "-b", f"127.0.0.1:{port}", "reviewmech:create_app()"],
            cwd=ROOT, env=server_env, stdout=output, stderr=subprocess.STDOUT)


def wait_until_healthy(client: Client, server: subprocess.Popen, log: Path) -> None:
    """Wait until GET /healthz answers 200, at most STARTUP_TIMEOUT seconds."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchmarkError(f"gunicorn stopped with status {server.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if client.request("GET", "/healthz").status == 200:
                return
        except BenchmarkError:
            pass  # not listening yet
        time.sleep(0.2)
    raise BenchmarkError(f"GET /healthz did not answer 200 within {STARTUP_TIMEOUT:.0f} s:\n{log.read_text()[-4000:]}")


def stop_server(server: subprocess.Popen) -> None:
    """Terminate gunicorn; kill it if it is still there after STOP_TIMEOUT seconds."""
    server.terminate()
    try:
        server.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=STOP_TIMEOUT)


# The measurement -------------------------------------------------------------------------------

def show_text_questions(worker: Worker) -> None:
    """Autosave the answers that show OP4's follow-up text questions."""
    page = expect(worker.section(), {200}, f"GET {worker.section_path}")
    worker.token = csrf_token(page.body.decode(), f"GET {worker.section_path}")
    versions = {block["data-question"]: int(block["data-version"]) for block in answer_blocks(page.body.decode())}
    for code, value in SHOWING_ANSWERS.items():
        body = json.dumps({"value": value, "version": versions.get(code, 0)}).encode()
        expect(worker.post_answer(code, body), {200}, f"autosave of {code} with {body.decode()}")


def prepare_workers(base_url: str, review_id: int, count: int) -> tuple[list[Worker], Reply]:
    """Sign in `count` clients; give each a CSRF token and a text question of its own where possible."""
    workers = []
    for _ in range(count):
        worker = Worker(Client(base_url), review_id)
        sign_in(worker.client)
        workers.append(worker)
    show_text_questions(workers[0])
    page = expect(workers[0].section(), {200}, f"GET {workers[0].section_path}")
    targets = autosave_targets(page.body.decode())
    if not targets:
        raise BenchmarkError(f"GET {workers[0].section_path}: no editable text question is shown")
    for index, worker in enumerate(workers):
        own_page = expect(worker.section(), {200}, f"GET {worker.section_path}")
        worker.token = csrf_token(own_page.body.decode(), f"GET {worker.section_path}")
        worker.question, worker.version = targets[index % len(targets)]
    return workers, page


def run_batch(pool: ThreadPoolExecutor, workers: list[Worker], quotas: list[int], kind: str, samples: Samples) -> None:
    """Every worker sends its quota of one kind of request at the same time as the others."""
    def send(worker: Worker, quota: int) -> list[tuple[Reply, str]]:
        action: Callable[[], Reply] = getattr(worker, kind)
        return [(action(), f"{kind} of {worker.question}") for _ in range(quota)]

    start = time.perf_counter()
    results = list(pool.map(send, workers, quotas))
    samples.wall += time.perf_counter() - start
    for replies in results:
        for reply, what in replies:
            samples.add(reply, what)


def split(total: int, parts: int) -> list[int]:
    """`total` requests shared as evenly as possible among `parts` clients."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def measure(workers: list[Worker], requests: int) -> dict[str, Samples]:
    """Warm up, then send `requests` of each kind in rounds: a healthz batch, a section batch, an autosave batch."""
    kinds = {"healthz": Samples("healthz"), "section": Samples(f"section page {SECTION}"),
             "autosave": Samples("autosave")}
    remaining = split(requests, len(workers))
    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        for kind in kinds:
            run_batch(pool, workers, [WARM_UP] * len(workers), kind, Samples("warm-up"))
        while any(remaining):
            quotas = [min(BATCH, left) for left in remaining]
            for kind, samples in kinds.items():
                run_batch(pool, workers, quotas, kind, samples)
            remaining = [left - quota for left, quota in zip(remaining, quotas, strict=True)]
    return kinds


# The report ------------------------------------------------------------------------------------

def report(kinds: dict[str, Samples], workers: list[Worker], page: Reply) -> None:
    """Print percentiles, throughput, failures, ratios to the baseline and the sizes of the bodies."""
    baseline = kinds["healthz"]
    questions = dict.fromkeys(worker.question for worker in workers)
    print(f"{len(workers)} clients, {sum(baseline.statuses.values())} requests of each kind, "
          f"gunicorn -w 4 --threads 2, autosaved text questions: {', '.join(questions)}; latencies of the 2xx answers")
    for samples in kinds.values():
        print(samples.summary(baseline))
    print(f"section page {SECTION}: {len(answer_blocks(page.body.decode()))} questions, "
          f"{len(page.body) / 1024:.1f} KiB of HTML before the run, "
          f"{kinds['section'].last_size / 1024:.1f} KiB at its end (with the autosaved texts)")
    print(f"autosave: request body {len(workers[0].autosave_body())} bytes (JSON with a text of about 850 characters), "
          f"response body {kinds['autosave'].last_size} bytes (200)")
    for samples in kinds.values():
        if samples.first_failure:
            print(f"first unexpected answer, {samples.label}: {samples.first_failure}")


def check_results(kinds: dict[str, Samples]) -> None:
    """Fail if healthz or the section page answered anything but 2xx, or autosave anything but 2xx or 409."""
    failed = [samples.label for kind, samples in kinds.items() if kind != "autosave" and samples.non_2xx()]
    if failed or kinds["autosave"].non_2xx() != kinds["autosave"].statuses.get(409, 0):
        raise BenchmarkError(f"unexpected answers (see above): {', '.join(failed) or 'autosave'}")


def benchmark(env: dict[str, str], database_url: URL, arguments: argparse.Namespace, log: Path) -> None:
    """Prepare the database, start the server, measure and report."""
    prepare_database(env)
    review_id = mexico_review_id(database_url)
    port = free_port()
    server = start_server(env, port, log)
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_healthy(Client(base_url), server, log)
        workers, page = prepare_workers(base_url, review_id, arguments.clients)
        kinds = measure(workers, arguments.requests)
        report(kinds, workers, page)
        check_results(kinds)
    finally:
        stop_server(server)


def parse_arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent signed-in clients (default 8)")
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind in all (default 200)")
    parser.add_argument("--database-url", default=DEFAULT_SERVER_URL,
                        help=f"a PostgreSQL server on a loopback address (default {DEFAULT_SERVER_URL})")
    arguments = parser.parse_args()
    if not 1 <= arguments.clients <= 64 or not 1 <= arguments.requests <= 100_000:
        parser.error("--clients must be 1 to 64 and --requests 1 to 100000")
    return arguments


def run(arguments: argparse.Namespace) -> None:
    """Create the database, run the benchmark, drop the database whatever happens."""
    server_url = make_url(arguments.database_url)
    check_loopback(server_url)
    name = f"reviewmech_bench_{os.getpid()}"
    database_url = server_url.set(database=name)
    admin_execute(server_url, f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="reviewmech-bench-") as instance:
            env = app_environment(database_url, Path(instance))
            benchmark(env, database_url, arguments, Path(instance) / "gunicorn.log")
    finally:
        admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    """Run the benchmark; a failure ends with its reason in one message and status 1."""
    arguments = parse_arguments()
    try:
        run(arguments)
    except BenchmarkError as error:
        sys.exit(f"benchmark failed: {error}")


if __name__ == "__main__":
    main()
