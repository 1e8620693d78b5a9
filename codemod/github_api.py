"""The one GitHub REST client of gha-fix's online parts (`diagnose --run`, the repository's
default token, `apply --pr`); imported only by the commands that go online.

Why not githubkit or PyGithub (measured by bench/github_clients.py): importing githubkit costs
0.35 s, PyGithub 0.25–0.5 s (this module with its HTTP layer: 0.11 s; githubkit 0.16.1 does not
even import with the hishel 2.0 that pip installs beside it), and neither holds the rules the
metadata resolver already holds: a request that trickles a byte a second ran past 25 s with
`timeout=3` in both (a per-read timeout, no deadline), and a 10 MiB answer was read whole (no
size cap).  So this client sends its requests through `http_client.send`, the hardened layer
of the resolver:

- a deadline for the whole command (every request, retry and wait ends by it);
- size caps: a JSON answer over MAX_JSON_BYTES is refused; a log keeps its last bytes and says
  it was cut (the failure is at a log's end);
- the token goes only to the configured API origin, never across a redirect to another host
  (the log download answers 302 to a storage host: followed without `Authorization`);
- retries: a 5xx, a timeout or a reset is retried with backoff; a rate limit is waited out
  when it asks for less than MAX_RATE_WAIT seconds and the deadline allows, else reported.

Where: `--github-url URL`, else `GH_HOST` (GitHub Enterprise Server: `https://HOST/api/v3`),
else github.com; `GHA_FIX_API_URL` names the API base exactly (a mirror).  The token:
`GH_TOKEN`, `GITHUB_TOKEN` (on Enterprise Server also `GH_ENTERPRISE_TOKEN`,
`GITHUB_ENTERPRISE_TOKEN`), else `gh auth token --hostname HOST`.  No message ever holds it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from gha_fix.codemod.github_files import offline_requested, origin

API_VERSION = "2022-11-28"
USER_AGENT = "gha-fix (+https://github.com/; online diagnosis and pull requests)"
MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_LOG_BYTES = 16 * 1024 * 1024  # per job: the last 16 MiB of a log are read
DEFAULT_DEADLINE = 120.0  # seconds a command may spend on GitHub, all requests together
REQUEST_TIMEOUT = 30.0  # one request (its redirects and body included)
RETRIES = 3
MAX_RATE_WAIT = 60.0
MAX_PAGES = 10


class ApiError(Exception):
    """A request that did not succeed, in one line without any credential; `status` is the
    HTTP status (0: no answer), `message` GitHub's own `message` when it sent one."""

    def __init__(self, text: str, status: int = 0, message: str = "") -> None:
        super().__init__(text)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Token:
    value: str
    source: str  # where it came from: GH_TOKEN, GITHUB_TOKEN, `gh auth token`

    def __repr__(self) -> str:  # never the value
        return f"Token(source={self.source!r})"


@dataclass(frozen=True)
class Endpoint:
    """Where the API is: `api_url` (no trailing slash) and the web host of run URLs."""

    api_url: str
    host: str  # github.com, or the Enterprise Server's host[:port]


def endpoint(github_url: str | None = None) -> Endpoint:
    """`--github-url`, else GH_HOST, else github.com; GHA_FIX_API_URL overrides the API base."""
    given = (github_url or "").strip()
    if not given:
        host = os.environ.get("GH_HOST", "").strip() or "github.com"
        given = f"https://{host}"
    if "://" not in given:
        given = f"https://{given}"
    parts = urllib.parse.urlsplit(given)
    host = parts.netloc.lower()
    path = parts.path.rstrip("/")
    if host in ("github.com", "api.github.com"):
        api, host = "https://api.github.com", "github.com"
    elif "/api/" in f"{path}/":
        api = f"{parts.scheme}://{parts.netloc}{path}"
    else:
        api = f"{parts.scheme}://{parts.netloc}{path}/api/v3"
    api = os.environ.get("GHA_FIX_API_URL", "").strip().rstrip("/") or api
    return Endpoint(api, host)


def find_token(host: str = "github.com") -> Token | None:
    """The token for `host`: from the environment, else from the GitHub CLI (`gh auth token`)."""
    names = ["GH_TOKEN", "GITHUB_TOKEN"]
    if host != "github.com":
        names = ["GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", *names]
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return Token(value, name)
    key = (host, os.environ.get("PATH", ""))
    if key not in _FROM_GH:  # once per process: a bulk run asks for every repository
        _FROM_GH[key] = _gh_token(host)
    return _FROM_GH[key]


_FROM_GH: dict[tuple[str, str], Token | None] = {}


def _gh_token(host: str) -> Token | None:
    gh = shutil.which("gh")
    if gh is None:
        return None
    try:
        done = subprocess.run([gh, "auth", "token", "--hostname", host.split(":")[0]],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return Token(value, "`gh auth token`") if done.returncode == 0 and value else None


def offline() -> bool:
    return offline_requested()


def missing_access(github_url: str | None, flag: str) -> str | None:
    """Why `flag` cannot ask GitHub (offline, no token), or None."""
    if offline():
        return f"{flag} needs GitHub, and GHA_FIX_OFFLINE is set; nothing was committed"
    where = endpoint(github_url)
    if find_token(where.host) is None:
        return (f"{flag} needs a GitHub token for {where.host}: set GH_TOKEN (or GITHUB_TOKEN) "
                "or run `gh auth login`; nothing was committed or pushed")
    return None


class GitHubApi:
    """REST calls against one endpoint with one token, within one deadline."""

    def __init__(self, where: Endpoint, token: Token | None, *,
                 deadline: float = DEFAULT_DEADLINE, timeout: float = REQUEST_TIMEOUT,
                 retries: int = RETRIES, backoff: float = 1.0) -> None:
        self.where = where
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._until = time.monotonic() + deadline
        self._origin = origin(where.api_url)
        self.requests = 0  # requests sent, for tests and reports

    # -- calls -----------------------------------------------------------------------------
    def json(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """GitHub's JSON answer to `method path` (a path under the API, or a full URL)."""
        data = json.dumps(body).encode() if body is not None else None
        answer = self._send(method, path, data, MAX_JSON_BYTES, keep_tail=False)
        try:
            return json.loads(answer.body or b"null")
        except ValueError:
            raise ApiError(f"{method} {self._shown(path)}: the answer is not JSON") from None

    def pages(self, path: str, key: str) -> list[Any]:
        """The items under `key` of every page of a list (`Link: rel="next"`, MAX_PAGES)."""
        items: list[Any] = []
        url: str | None = path
        for _ in range(MAX_PAGES):
            if url is None:
                break
            answer = self._send("GET", url, None, MAX_JSON_BYTES, keep_tail=False)
            try:
                page = json.loads(answer.body)
            except ValueError:
                raise ApiError(f"GET {self._shown(url)}: the answer is not JSON") from None
            items += page.get(key, []) if isinstance(page, dict) else page
            url = _next_link(answer.headers.get("Link", ""))
        return items

    def download(self, path: str, max_bytes: int = MAX_LOG_BYTES) -> tuple[bytes, bool]:
        """(the last `max_bytes` of the answer, whether it was cut): logs, following the
        redirect to the storage host without the token."""
        answer = self._send("GET", path, None, max_bytes, keep_tail=True)
        return answer.body, answer.truncated

    # -- transport -------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return path if "://" in path else f"{self.where.api_url}/{path.lstrip('/')}"

    def _shown(self, path: str) -> str:
        return urllib.parse.urlsplit(self._url(path)).path

    def _send(self, method: str, path: str, data: bytes | None, max_bytes: int,
              keep_tail: bool) -> Any:
        from gha_fix.codemod import http_client as net

        if offline():
            raise ApiError("offline (GHA_FIX_OFFLINE): GitHub is not asked")
        url = self._url(path)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": API_VERSION}
        if data is not None:
            headers["Content-Type"] = "application/json"
        token = self.token.value if self.token and origin(url) == self._origin else None
        what = f"{method} {self._shown(path)}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.backoff * 2 ** (attempt - 1))
            if self._left() <= 0:
                break
            self.requests += 1
            until = min(time.monotonic() + self.timeout, self._until)
            try:
                return net.send(method, url, headers, token, until, max_bytes, data, keep_tail)
            except net.RateLimited as exc:
                wait = getattr(exc, "wait", None)
                if wait is None or wait > min(MAX_RATE_WAIT, self._left()):
                    raise ApiError(f"{what}: {_rate_text(str(exc))}", 429) from None
                self._sleep(wait)
                last = "rate limited"
            except net.Missing as exc:
                raise _api_error(what, exc, 404) from None
            except (net.Final, net.NoDNS) as exc:
                raise _api_error(what, exc, getattr(exc, "status", 0)) from None
            except OSError as exc:  # a 5xx, a timeout, a reset: retried, but not a POST
                last = net.describe(exc)  # (it may have been done: a second pull request)
                if method == "POST":
                    raise ApiError(f"{what}: {last} (not retried: it may have been done)",
                                   getattr(exc, "status", 0)) from None
        raise ApiError(f"{what}: no answer within the time limit ({last or 'timed out'})")

    def _left(self) -> float:
        return self._until - time.monotonic()

    def _sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, min(seconds, self._left())))


def _api_error(what: str, exc: Exception, status: int) -> ApiError:
    message = _message(getattr(exc, "detail", b""))
    said = f"HTTP {status}" if status else str(exc)
    return ApiError(f"{what}: {said}{f' ({message})' if message else ''}", status, message)


def _message(detail: bytes) -> str:
    """GitHub's `message` from an error body (first line, at most 200 characters)."""
    try:
        data = json.loads(detail.decode("utf-8", errors="replace"))
    except ValueError:
        return ""
    text = data.get("message", "") if isinstance(data, dict) else ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        extra = errors[0].get("message")
        text = f"{text}: {extra}" if extra else text
    return str(text).splitlines()[0][:200] if text else ""


def _rate_text(text: str) -> str:
    return text.split("; no more action metadata")[0]


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        if 'rel="next"' in part and "<" in part and ">" in part:
            return part[part.index("<") + 1:part.index(">")]
    return None
