"""Servers on loopback for the metadata fetcher's tests: real sockets, bounded lifetimes.

`Routes` is an HTTP server (on 127.0.0.1 or 127.0.0.2) answering from a table and recording
who sent which `Authorization`; `Raw` is a bare TCP server whose connections get a behaviour
(never answer, trickle a byte a second, send 10 MiB).  Every loop is bounded: a server stops
by itself after `life` seconds at the latest.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Answer = tuple[int, dict[str, str], bytes]  # status, headers, body
# a dynamic route: (method, path with its query, request body) -> an answer, or None
Dynamic = Callable[[str, str, bytes], "Answer | None"]


@dataclass
class Call:
    method: str
    path: str  # with its query
    authorization: str | None
    body: bytes


class Routes:
    """An HTTP server answering GET from `routes` (path -> answer; else 404), and any method
    from `handler` first when one is set; every request is recorded in `calls`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Answer] = {}
        self.seen: list[tuple[str, str | None]] = []  # (path, Authorization)
        self.calls: list[Call] = []
        self.handler: Dynamic | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                server.seen.append((path, self.headers.get("Authorization")))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.calls.append(Call(self.command, self.path,
                                         self.headers.get("Authorization"), body))
                answer = server.handler(self.command, self.path, body) if (
                    server.handler) else None
                if answer is None and self.command != "GET":
                    answer = (404, {}, b'{"message": "Not Found"}')
                status, headers, body = answer or server.routes.get(
                    path, (404, {}, b"404: Not Found"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        self.routes[path] = (status, {"Location": to}, b"moved")

    def serve(self, path: str, text: str) -> None:
        self.routes[path] = (200, {}, text.encode())

    def tokens(self) -> list[str | None]:
        return [auth for _, auth in self.seen if auth]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


Behaviour = Callable[[socket.socket, threading.Event], None]


class Raw:
    """A TCP server on 127.0.0.1 that reads each request's head and then `behave`s."""

    def __init__(self, behave: Behaviour, life: float = 60) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.connections = 0
        self._end = time.monotonic() + life
        self._behave = behave
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set() and time.monotonic() < self._end:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            head = b""
            try:
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                self._behave(conn, self.stop)
            except OSError:
                pass  # the client gave up: that is what the tests want

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def never_answer(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(60)


def trickle(head: bytes) -> Behaviour:
    """`head` at once, then one byte a second (200 at most: it never ends within a test)."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head)
        for _ in range(200):
            if stop.wait(1):
                return
            conn.sendall(b"x")

    return behave


trickle_body = trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n")
trickle_head = trickle(b"HTTP/1.1 200 OK\r\nX-Slow: ")


def huge(text: str, declared: bool) -> Behaviour:
    """A valid `text` padded to 10 MiB with comment lines; with or without Content-Length."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        line = b"# padding padding padding padding padding padding padding padding\n"
        count = 1024 * (10 * 1024 * 1024 // len(line) // 1024)
        size = len(text.encode()) + count * len(line)
        length = f"Content-Length: {size}\r\n" if declared else ""
        conn.sendall(f"HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n".encode())
        conn.sendall(text.encode())
        block = line * 1024
        for _ in range(count // 1024):
            if stop.is_set():
                return
            conn.sendall(block)

    return behave


# --- a GitHub REST API (Enterprise Server layout: /api/v3) ----------------------------------

GITHUB_DATA = Path(__file__).parent / "data" / "github_api"


@dataclass
class FakeJob:
    """A job of a run: its log's messages (timestamps are added) and the step that failed."""

    name: str
    messages: str = ""
    failed_step: str | None = None  # None: the job succeeded
    job_id: int = 0


class GitHubServer:
    """GitHub's REST API on 127.0.0.1 under /api/v3, answering with the shapes of
    tests/data/github_api; a job's log answers 302 to a second server on 127.0.0.2 (the
    storage host), as GitHub does.  Pull requests are kept: POST creates, PATCH updates."""

    def __init__(self, slug: str = "octo/app") -> None:
        self.slug = slug
        self.api = Routes()
        self.blob = Routes("127.0.0.2")
        self.web = self.api.url
        self.host = self.web.split("://", 1)[1]
        self.api_url = f"{self.api.url}/api/v3"
        self.pulls: list[dict[str, Any]] = []
        self.refuse_pulls = 0  # an HTTP status every pulls request gets (403: not allowed)
        self.api.handler = self._dynamic
        self.repository(slug)

    # -- fixtures --------------------------------------------------------------------------
    def fixture(self, fixture: str, **values: Any) -> Any:
        owner, repo = values.get("slug", self.slug).split("/")
        fill = {"api": self.api_url, "web": self.web, "slug": f"{owner}/{repo}",
                "owner": owner, "repo": repo, **{k: str(v) for k, v in values.items()}}
        text = (GITHUB_DATA / f"{fixture}.json").read_text()
        for key, value in fill.items():
            text = text.replace("{" + key + "}", value)
        return json.loads(text)

    def route(self, path: str, data: Any, status: int = 200,
              headers: dict[str, str] | None = None) -> None:
        self.api.routes[f"/api/v3/{path}"] = (
            status, {"Content-Type": "application/json", **(headers or {})},
            json.dumps(data).encode())

    def repository(self, slug: str) -> None:
        self.route(f"repos/{slug}", self.fixture("repository", slug=slug))

    def default_permissions(self, slug: str, value: str | None, status: int = 200) -> None:
        """`value` read/write (200), or an error `status` (403, 404)."""
        data: Any = {**self.fixture("workflow_permissions"),
                     "default_workflow_permissions": value} if status == 200 else {
            "message": "Not Found" if status == 404 else "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/actions/permissions"}
        self.route(f"repos/{slug}/actions/permissions/workflow", data, status)

    def add_run(self, run_id: int, jobs: list[FakeJob], event: str = "push",
                workflow: str = ".github/workflows/release.yml",
                workflow_text: str | None = None, head_sha: str = "a" * 40,
                actor: str = "octocat", head_repository: str | None = None) -> None:
        run = self.fixture("run")
        run.update(id=run_id, event=event, path=workflow, head_sha=head_sha,
                   html_url=f"{self.web}/{self.slug}/actions/runs/{run_id}")
        run["actor"]["login"] = run["triggering_actor"]["login"] = actor
        if head_repository:  # a fork's pull request
            run["head_repository"].update(full_name=head_repository, id=7)
        self.route(f"repos/{self.slug}/actions/runs/{run_id}", run)
        template = self.fixture("jobs")["jobs"]
        listed = []
        for number, job in enumerate(jobs):
            job.job_id = job.job_id or run_id * 10 + number
            shape = dict(template[1 if job.failed_step else 0])
            shape.update(id=job.job_id, run_id=run_id, name=job.name, head_sha=head_sha)
            steps = [dict(s) for s in shape["steps"]]
            if job.failed_step:
                steps[2]["name"] = job.failed_step
            shape["steps"] = steps
            listed.append(shape)
            self.api.redirect(f"/api/v3/repos/{self.slug}/actions/jobs/{job.job_id}/logs",
                              f"{self.blob.url}/logs/{job.job_id}.txt?sig=abc")
            self.blob.serve(f"/logs/{job.job_id}.txt", raw_job_log(job))
        self.route(f"repos/{self.slug}/actions/runs/{run_id}/jobs",
                   {"total_count": len(listed), "jobs": listed})
        if workflow_text is not None:
            name = workflow.rsplit("/", 1)[1]
            self.route(f"repos/{self.slug}/contents/{workflow}", self.fixture(
                "contents", name=name, path=workflow, ref=head_sha,
                content=base64.b64encode(workflow_text.encode()).decode()))

    # -- pull requests ---------------------------------------------------------------------
    def _dynamic(self, method: str, path: str, body: bytes) -> Answer | None:
        parts = urllib.parse.urlsplit(path)
        match = re.match(r"^(/api/v3/repos/([^/]+/[^/]+)/pulls)", parts.path)
        if match is None:
            return None
        prefix, slug = match.group(1), match.group(2)
        if self.refuse_pulls:
            return _json(self.refuse_pulls, {
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/pulls/pulls"})
        query = dict(urllib.parse.parse_qsl(parts.query))
        if method == "GET" and parts.path == prefix:
            found = [p for p in self.pulls if p["state"] == query.get("state", "open")
                     and p["base"]["repo"]["full_name"] == slug
                     and (not query.get("head") or p["head"]["label"] == query["head"])]
            return _json(200, found)
        if method == "POST" and parts.path == prefix:
            asked = json.loads(body)
            if any(p["head"]["label"] == asked["head"] and p["state"] == "open"
                   and p["base"]["repo"]["full_name"] == slug for p in self.pulls):
                return _json(422, {"message": "Validation Failed", "errors": [
                    {"resource": "PullRequest", "code": "custom",
                     "message": f"A pull request already exists for {asked['head']}."}]})
            number = len(self.pulls) + 1
            pull = self.fixture("pull", number=number, branch=asked["head"].split(":")[-1],
                                slug=slug)
            pull.update(number=number, title=asked["title"], body=asked.get("body", ""))
            pull["base"]["ref"] = asked["base"]
            self.pulls.append(pull)
            return _json(201, pull)
        number = parts.path.removeprefix(prefix + "/")
        if method == "PATCH" and number.isdigit():
            pull = next(p for p in self.pulls if p["number"] == int(number)
                        and p["base"]["repo"]["full_name"] == slug)
            pull.update(json.loads(body))
            return _json(200, pull)
        return None

    def close(self) -> None:
        self.api.close()
        self.blob.close()


def _json(status: int, data: Any) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def raw_job_log(job: FakeJob) -> str:
    """A job's raw log as GitHub serves it: `TIMESTAMP message` lines; the set-up lines fall in
    the first step's window, the messages in the failed step's (see jobs.json)."""
    head = ["2024-05-01T10:00:01.1000000Z Current runner version: '2.317.0'",
            "2024-05-01T10:00:01.2000000Z ##[group]Operating System",
            "2024-05-01T10:00:01.3000000Z Ubuntu",
            "2024-05-01T10:00:01.4000000Z ##[endgroup]"]
    stamped = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?")
    body = [f"2024-05-01T10:00:06.{n:07d}Z {stamped.sub('', line)}"  # a copied line's own
            for n, line in enumerate(job.messages.splitlines())]  # timestamp is replaced
    tail = ["2024-05-01T10:00:08.5000000Z Post job cleanup.",
            "2024-05-01T10:00:09.1000000Z Cleaning up orphan processes"]
    return "\ufeff" + "\n".join(head + body + tail) + "\n"
