"""Files of GitHub repositories at a ref (an action's `action.yml`, a reusable workflow), cached.

`GitHubFiles.fetch(kind, ref, files)` finds the first of `files` (paths in the repository of
`ref`) at `ref.ref`, in this order:

1. the on-disk cache (`$XDG_CACHE_HOME/gha-fix`, else `~/.cache/gha-fix`; one folder per
   `kind`), shared by processes (writes are temp file + rename); a full commit SHA is cached
   forever, a tag or branch (and a 404) for `ttl` seconds;
2. GitHub (`raw.githubusercontent.com`, then the contents API if the raw host is unreachable),
   unless `offline`; timeouts and 5xx get a small retry with backoff; a rate limit (or three
   fetches in a row with no answer) stops every further request of the run, and the answer
   carries a one-line message to say once;
3. else a stale cache entry, or nothing, with why.

What the files mean is the transforms' business (transforms/analysis/action_metadata.py).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal

SHA = re.compile(r"[0-9a-f]{40}")
SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
DEFAULT_TTL = 86400.0  # a day: how long a tag's or branch's cached file is trusted
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
MAX_FAILURES = 3  # fetches in a row without an answer before the run stops asking
USER_AGENT = "gha-fix (+https://github.com/; action metadata resolver)"


class ResolverError(Exception):
    """Something the user must know about and can act on (rate limit); one line."""


@dataclass
class RemoteFile:
    """A file as fetched (or a 404 for all candidates: `missing`), and when."""

    status: Literal["ok", "missing"]
    text: str | None
    url: str
    fetched: float


@dataclass
class Fetch:
    """What `GitHubFiles.fetch` found: the file (fresh, fetched, or a stale cache entry when
    the network did not answer), or None; why the network did not answer this time; and the
    message to say once when the run stops asking the network (rate limit, no answer)."""

    file: RemoteFile | None
    problem: str = ""
    stop: str | None = None


# --- references ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRef:
    """`owner/repo[/path]@ref` of an action or of a remote reusable workflow."""

    owner: str
    repo: str
    path: str  # "" for an action at the repository root
    ref: str

    @classmethod
    def parse(cls, uses: str) -> ActionRef:
        """Raises ValueError for local (`./x`), `docker://` and malformed references."""
        text = uses.strip()
        if text.startswith(("./", "../", "docker://")) or "${{" in text:
            raise ValueError(f"not a remote action reference: {uses!r}")
        name, sep, ref = text.partition("@")
        parts = name.strip("/").split("/")
        if not sep or not ref or len(parts) < 2 or any(c in ref for c in " \t\n"):
            raise ValueError(f"not `owner/repo[/path]@ref`: {uses!r}")
        if any(not SEGMENT.fullmatch(p) or p in (".", "..") for p in parts):
            raise ValueError(f"not `owner/repo[/path]@ref`: {uses!r}")
        if ".." in ref.split("/"):
            raise ValueError(f"bad ref in {uses!r}")
        return cls(parts[0], parts[1], "/".join(parts[2:]), ref)

    @property
    def key(self) -> str:
        """`owner/repo[/path]`, owner and repo lowercased (GitHub ignores their case)."""
        base = f"{self.owner}/{self.repo}".lower()
        return f"{base}/{self.path}" if self.path else base

    @property
    def ident(self) -> str:
        """`key@ref`: one identity for `Actions/Checkout@v4` and `actions/checkout@v4`."""
        return f"{self.key}@{self.ref}"

    @property
    def pinned(self) -> bool:
        """A full commit SHA: its content never changes, so it is cached forever."""
        return bool(SHA.fullmatch(self.ref.lower()))

    @property
    def is_workflow(self) -> bool:
        return self.path.startswith(".github/workflows/") and self.path.endswith(
            (".yml", ".yaml")
        )

    def __str__(self) -> str:
        return f"{self.owner}/{self.repo}{'/' + self.path if self.path else ''}@{self.ref}"


def parse_duration(text: str) -> float | None:
    """`90`, `90s`, `30m`, `12h`, `7d` in seconds; None for anything else."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return float(match.group(1)) * unit


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "gha-fix"


class _RateLimited(Exception):
    pass


class _Missing(Exception):
    pass


class _Unreachable(OSError):
    """The host could not be reached at all (refused, DNS, proxy): another host may work."""


class _NoDNS(_Unreachable):
    """The host name does not resolve: no network here, for the whole run."""


# --- the fetcher --------------------------------------------------------------------------


class GitHubFiles:
    """Fetches files of GitHub repositories at a ref, cached; see the module docstring."""

    def __init__(
        self,
        cache_dir: Path | str | None = None,
        offline: bool = False,
        base_url: str = "https://raw.githubusercontent.com",
        api_url: str = "https://api.github.com",
        token: str | None = None,
        ttl: float = DEFAULT_TTL,
        timeout: float = 10,
        *,
        retries: int = 2,
        backoff: float = 0.5,
        use_cache: bool = True,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.offline = offline
        self.base_url = base_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        # The token only raises rate limits; it is sent to the two configured hosts only.
        self._token = token or os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
        self.ttl = ttl
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.use_cache = use_cache
        self.stopped: str | None = None  # why the network is no longer asked (rate limit)
        self.requests = 0  # HTTP requests made, for reports and tests
        self.failures = 0  # fetches in a row that got no answer

    # -- public ----------------------------------------------------------------------------
    def fetch(self, kind: str, ref: ActionRef, files: Sequence[str]) -> Fetch:
        """The first of `files` (paths in `ref`'s repository) at `ref.ref`: cache, else
        network.  `kind` names the cache folder ("action", "workflow").

        A stale cache entry at the exact ref is returned when the network cannot answer.
        """
        cached = self._read_cache(kind, ref) if self.use_cache else None
        if cached is not None and self._fresh(ref, cached):
            return Fetch(cached)
        if self.offline or self.stopped:
            return Fetch(cached)
        try:
            fetched = self._fetch(ref, files)
        except _RateLimited as exc:
            self.stopped = str(exc)
            return Fetch(cached, f"{ref}: not fetched (rate limited)", str(exc))
        except OSError as exc:
            problem = f"{ref}: could not be fetched: {_describe(exc)}"
            self.failures += 1
            if isinstance(exc, _NoDNS):  # no name resolution: this machine is offline
                self.failures = max(self.failures, MAX_FAILURES)
            if self.failures < MAX_FAILURES:
                return Fetch(cached, problem)
            # a dead network would cost `timeout` x attempts for every file of the run
            why = ("GitHub's host names do not resolve" if isinstance(exc, _NoDNS)
                   else f"GitHub did not answer {self.failures} times in a row")
            self.stopped = (
                f"{why} ({_describe(exc)}); no more action metadata is fetched in this run "
                "(use the cache, the offline index; --offline skips the attempt)"
            )
            return Fetch(cached, problem, self.stopped)
        self.failures = 0
        if self.use_cache:
            self._write_cache(kind, ref, fetched)
        return Fetch(fetched)

    def commit_of(self, owner: str, repo: str, ref: str = "HEAD") -> str:
        """The commit SHA that `ref` (a branch, a tag; HEAD: the default branch) names now.

        Raises ResolverError when it cannot be found (offline, 404, rate limit, no answer)."""
        if self.offline:
            raise ResolverError("offline: cannot look up a commit")
        url = (f"{self.api_url}/repos/{owner}/{repo}/commits/"
               f"{urllib.parse.quote(ref, safe='')}")
        try:
            sha = self._request(url, api=True, accept="application/vnd.github.sha").strip()
        except (_RateLimited, _Missing, OSError) as exc:
            raise ResolverError(f"{owner}/{repo}@{ref}: {exc or 'not found'}") from None
        if not SHA.fullmatch(sha):
            raise ResolverError(f"{owner}/{repo}@{ref}: not a commit SHA in the answer")
        return sha

    def _fresh(self, ref: ActionRef, entry: RemoteFile) -> bool:
        if ref.pinned and entry.status == "ok":
            return True  # a commit's files never change; a 404 may (repo made public)
        return time.time() - entry.fetched < self.ttl

    # -- network ---------------------------------------------------------------------------
    def _urls(self, ref: ActionRef, files: Sequence[str]) -> list[tuple[str, str]]:
        """(raw URL, API URL) per candidate file, in order."""
        quoted = urllib.parse.quote(ref.ref, safe="/")
        out = []
        for name in files:
            path = urllib.parse.quote(name)
            raw = f"{self.base_url}/{ref.owner}/{ref.repo}/{quoted}/{path}"
            api = (
                f"{self.api_url}/repos/{ref.owner}/{ref.repo}/contents/{path}"
                f"?ref={urllib.parse.quote(ref.ref, safe='')}"
            )
            out.append((raw, api))
        return out

    def _fetch(self, ref: ActionRef, files: Sequence[str]) -> RemoteFile:
        """Raw host first; the contents API only if the raw host cannot be reached at all.

        (Networks that block raw.githubusercontent.com but allow api.github.com exist; a
        timeout or a 5xx means the raw host is there, so the API is not asked then.)
        """
        urls = self._urls(ref, files)
        try:
            return self._fetch_first([raw for raw, _ in urls], api=False)
        except _Unreachable as raw_error:
            try:
                return self._fetch_first([api for _, api in urls], api=True)
            except OSError:
                raise raw_error from None

    def _fetch_first(self, urls: list[str], api: bool) -> RemoteFile:
        """The first URL that answers 200; `missing` when every one answers 404."""
        for url in urls:
            try:
                text = self._request(url, api)
            except _Missing:
                continue
            return RemoteFile("ok", text, url, time.time())
        return RemoteFile("missing", None, urls[0], time.time())

    def _request(self, url: str, api: bool, accept: str = "application/vnd.github.raw") -> str:
        headers = {"User-Agent": USER_AGENT}
        if api:
            headers["Accept"] = accept
            headers["X-GitHub-Api-Version"] = "2022-11-28"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        last: OSError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            self.requests += 1
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url, headers=headers), timeout=self.timeout
                ) as response:
                    return response.read().decode("utf-8", errors="replace")
            except urllib.error.HTTPError as exc:
                exc.close()
                limited = _rate_limit_message(exc, bool(self._token))
                if limited:
                    raise _RateLimited(limited) from None
                if exc.code in (404, 410):
                    raise _Missing(url) from None
                if exc.code < 500:  # 401, a plain 403: retrying will not help
                    raise OSError(f"HTTP {exc.code} from {url}") from None
                last = OSError(f"HTTP {exc.code} from {url}")
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, socket.gaierror):  # no DNS: no network, no retry
                    raise _NoDNS(f"{_describe(exc)} ({url})") from None
                timed_out = isinstance(exc.reason, TimeoutError)
                last = (OSError if timed_out else _Unreachable)(f"{_describe(exc)} ({url})")
            except (OSError, http.client.HTTPException) as exc:  # read timeout, reset
                last = OSError(f"{_describe(exc)} ({url})")
        assert last is not None
        raise last

    # -- cache -----------------------------------------------------------------------------
    def _cache_path(self, kind: str, ref: ActionRef) -> Path:
        folders = ref.path.split("/") if ref.path else ["_"]
        parts = [kind, ref.owner.lower(), ref.repo.lower(), *folders]
        return self.cache_dir.joinpath(*parts, urllib.parse.quote(ref.ref, safe="") + ".json")

    def _read_cache(self, kind: str, ref: ActionRef) -> RemoteFile | None:
        try:
            data = json.loads(self._cache_path(kind, ref).read_text(encoding="utf-8"))
            return RemoteFile(data["status"], data.get("text"), data["url"], float(data["fetched"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent, or written by another version: fetch again

    def _write_cache(self, kind: str, ref: ActionRef, fetched: RemoteFile) -> None:
        path = self._cache_path(kind, ref)
        data = {"status": fetched.status, "url": fetched.url, "fetched": fetched.fetched,
                "ref": ref.ref, "text": fetched.text}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out)
                os.replace(tmp, path)  # atomic: another process sees the old or the new file
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a read-only cache only costs refetches


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        exc = reason
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


def _rate_limit_message(exc: urllib.error.HTTPError, has_token: bool) -> str | None:
    """A one-line message for a rate-limit answer (403/429), None for any other answer."""
    headers = exc.headers
    remaining = headers.get("X-RateLimit-Remaining") if headers else None
    retry_after = headers.get("Retry-After") if headers else None
    if exc.code == 429 or (exc.code == 403 and (remaining == "0" or retry_after)):
        when = ""
        if retry_after:
            when = f"; retry after {_retry_after(retry_after)}"
        elif headers and headers.get("X-RateLimit-Reset", "").isdigit():
            reset = int(headers["X-RateLimit-Reset"])
            when = f"; resets at {time.strftime('%H:%M:%S UTC', time.gmtime(reset))}"
        hint = "" if has_token else "; set GITHUB_TOKEN (or GH_TOKEN) for a higher limit"
        return (
            f"GitHub rate limit reached (HTTP {exc.code}){when}{hint}; "
            "no more action metadata is fetched in this run (use the cache, the offline index)"
        )
    return None


def _retry_after(value: str) -> str:
    value = value.strip()
    if value.isdigit():
        return f"{value} s"
    try:
        return parsedate_to_datetime(value).strftime("%H:%M:%S UTC")
    except (TypeError, ValueError):
        return value
