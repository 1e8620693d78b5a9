"""Files of GitHub repositories at a ref (an action's `action.yml`, a reusable workflow), cached.

`GitHubFiles.fetch(kind, ref, files)` finds the first of `files` (paths in the repository of
`ref`) at `ref.ref`, in this order:

1. the on-disk cache (`$XDG_CACHE_HOME/gha-fix`, else `~/.cache/gha-fix`; `file_cache`), kept
   per source host and trusted only when it is safely the user's; a full commit SHA is cached
   forever, a tag or branch (and a 404) for `ttl` seconds;
2. GitHub (`raw.githubusercontent.com`, then the contents API if the raw host is unreachable),
   unless `offline`, through `http_client` (imported on the first request): the token goes
   to the configured hosts only; every request ends by the run's `deadline` (each gets the
   time left, at most `timeout`); an answer over MAX_ANSWER_BYTES is refused; timeouts and
   5xx get a small retry with backoff; a rate limit, the deadline, or three fetches in a row
   with no answer stop every further request of the run;
3. else a stale cache entry, or nothing, with why.

What the run must hear once (the network stopped; a cache entry was ignored) comes as
`Fetch.stop`, on the next answer only.  What the files mean is the transforms' business
(transforms/analysis/action_metadata.py).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gha_fix.codemod.file_cache import (
    MAX_BYTES,
    MAX_ENTRY_BYTES,
    FileCache,
    Untrusted,
    source_folder,
)
from gha_fix.codemod.paths import default_cache_dir

SHA = re.compile(r"[0-9a-f]{40}")
SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
DEFAULT_TTL = 86400.0  # a day: how long a tag's or branch's cached file is trusted
DEFAULT_TIMEOUT = 10.0  # seconds of a run (all its processes) that may go to fetching
MAX_ANSWER_BYTES = 1024 * 1024  # an action.yml is a few KiB
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
    the network did not answer), or None; why the network did not answer this time; and a
    one-line message to say once (the run stopped asking the network: rate limit, no
    answer, the deadline; a cache entry was ignored)."""

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


def offline_requested() -> bool:
    """Whether the environment asks for no network at all (`GHA_FIX_OFFLINE=1`, as
    `--offline`): no action metadata fetched, no GitHub API asked."""
    return os.environ.get("GHA_FIX_OFFLINE", "") not in ("", "0")


def origin(url: str) -> str:
    """`scheme://host:port` of `url` (the default port spelled out): where a token may go."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme, 0)
    except ValueError:
        port = 0
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


# --- the fetcher --------------------------------------------------------------------------


class GitHubFiles:
    """Fetches files of GitHub repositories at a ref, cached; see the module docstring.

    `deadline` is a `time.time()` value, so that the processes of one run can share it
    (None: no deadline for the run; each request still ends within `timeout`)."""

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
        deadline: float | None = None,
        max_entry_bytes: int = MAX_ENTRY_BYTES,
        max_cache_bytes: int = MAX_BYTES,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.offline = offline
        self.base_url = base_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        # The token only raises rate limits; it is sent to the two configured hosts only.
        self._token = token or os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
        self._origins = [origin(self.base_url), origin(self.api_url)]
        # keyed by the raw host; an entry is also checked against both hosts when read
        self.cache = FileCache(self.cache_dir, source_folder(self._origins[0]),
                               max_entry_bytes, max_cache_bytes)
        self.ttl = ttl
        self.timeout = timeout
        self.deadline = deadline
        # the same instant on this process's monotonic clock (the wall clock may jump)
        self._until = (math.inf if deadline is None
                       else time.monotonic() + (deadline - time.time()))
        self.retries = retries
        self.backoff = backoff
        self.use_cache = use_cache
        self.stopped: str | None = None  # why the network is no longer asked (rate limit)
        self.requests = 0  # HTTP requests made, for reports and tests
        self.failures = 0  # fetches in a row that got no answer
        self._untrusted_said = False
        self._notes: list[str] = []  # to say once, with the next answer

    # -- public ----------------------------------------------------------------------------
    def fetch(self, kind: str, ref: ActionRef, files: Sequence[str]) -> Fetch:
        """The first of `files` (paths in `ref`'s repository) at `ref.ref`: cache, else
        network.  `kind` names the cache folder ("action", "workflow").

        A stale cache entry at the exact ref is returned when the network cannot answer.
        """
        cached = self._read_cache(kind, ref) if self.use_cache else None
        if (cached is not None and self._fresh(ref, cached)) or self.offline or self.stopped:
            return self._answer(cached)
        if self._left() <= 0:
            return self._answer(cached, f"{ref}: not fetched (time limit)", self._out_of_time())
        from gha_fix.codemod import http_client as net

        try:
            fetched = self._fetch(ref, files)
        except net.RateLimited as exc:
            self.stopped = str(exc)
            return self._answer(cached, f"{ref}: not fetched (rate limited)", str(exc))
        except OSError as exc:
            problem = f"{ref}: could not be fetched: {net.describe(exc)}"
            if self._left() <= 0:
                return self._answer(cached, problem, self._out_of_time())
            self.failures += 1
            if isinstance(exc, net.NoDNS):  # no name resolution: this machine is offline
                self.failures = max(self.failures, MAX_FAILURES)
            if self.failures < MAX_FAILURES:
                return self._answer(cached, problem)
            # a dead network would cost `timeout` x attempts for every file of the run
            why = ("GitHub's host names do not resolve" if isinstance(exc, net.NoDNS)
                   else f"GitHub did not answer {self.failures} times in a row")
            self.stopped = (
                f"{why} ({net.describe(exc)}); no more action metadata is fetched in this run "
                "(use the cache, the offline index; --offline skips the attempt)"
            )
            return self._answer(cached, problem, self.stopped)
        self.failures = 0
        if self.use_cache:
            self._write_cache(kind, ref, fetched)
        return self._answer(fetched)

    def commit_of(self, owner: str, repo: str, ref: str = "HEAD") -> str:
        """The commit SHA that `ref` (a branch, a tag; HEAD: the default branch) names now.

        Raises ResolverError when it cannot be found (offline, 404, rate limit, no answer)."""
        if self.offline:
            raise ResolverError("offline: cannot look up a commit")
        from gha_fix.codemod import http_client as net

        url = (f"{self.api_url}/repos/{owner}/{repo}/commits/"
               f"{urllib.parse.quote(ref, safe='')}")
        try:
            sha = self._request(url, api=True, accept="application/vnd.github.sha").strip()
        except (net.RateLimited, net.Missing, OSError) as exc:
            raise ResolverError(f"{owner}/{repo}@{ref}: {exc or 'not found'}") from None
        if not SHA.fullmatch(sha):
            raise ResolverError(f"{owner}/{repo}@{ref}: not a commit SHA in the answer")
        return sha

    def _fresh(self, ref: ActionRef, entry: RemoteFile) -> bool:
        if ref.pinned and entry.status == "ok":
            return True  # a commit's files never change; a 404 may (repo made public)
        return time.time() - entry.fetched < self.ttl

    def _answer(self, file: RemoteFile | None, problem: str = "",
                stop: str | None = None) -> Fetch:
        """`Fetch(file, problem)` with what is still to be said once."""
        said = [m for m in (stop, *self._notes) if m]
        self._notes.clear()
        return Fetch(file, problem, "; ".join(said) or None)

    # -- time ------------------------------------------------------------------------------
    def _left(self) -> float:
        return self._until - time.monotonic()

    def _out_of_time(self) -> str:
        """Stops the network for the run; the message to say once."""
        self.stopped = (
            "the time limit for fetching action metadata is spent (--metadata-timeout, "
            "GHA_FIX_METADATA_TIMEOUT); the rest of the run uses the cache and the offline index"
        )
        return self.stopped

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
        from gha_fix.codemod.http_client import Unreachable

        urls = self._urls(ref, files)
        try:
            return self._fetch_first([raw for raw, _ in urls], api=False)
        except Unreachable as raw_error:
            try:
                return self._fetch_first([api for _, api in urls], api=True)
            except OSError:
                raise raw_error from None

    def _fetch_first(self, urls: list[str], api: bool) -> RemoteFile:
        """The first URL that answers 200; `missing` when every one answers 404."""
        from gha_fix.codemod.http_client import Missing

        for url in urls:
            try:
                text = self._request(url, api)
            except Missing:
                continue
            return RemoteFile("ok", text, url, time.time())
        return RemoteFile("missing", None, urls[0], time.time())

    def _request(self, url: str, api: bool, accept: str = "application/vnd.github.raw") -> str:
        """One GET with retries, each attempt ending by min(now + timeout, the deadline)."""
        from gha_fix.codemod import http_client as net

        headers = {"User-Agent": USER_AGENT}
        if api:
            headers["Accept"] = accept
            headers["X-GitHub-Api-Version"] = "2022-11-28"
        token = self._token if origin(url) in self._origins else None
        last: OSError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(max(0.0, min(self.backoff * 2 ** (attempt - 1), self._left())))
            if self._left() <= 0:
                break
            self.requests += 1
            until = min(time.monotonic() + self.timeout, self._until)
            try:
                return net.get(url, headers, token, until, MAX_ANSWER_BYTES)
            except (net.Final, net.NoDNS):
                raise
            except OSError as exc:  # a timeout, a 5xx, a reset, refused: may be retried
                last = exc
        raise last or OSError(f"timed out ({url})")

    # -- cache -----------------------------------------------------------------------------
    def _read_cache(self, kind: str, ref: ActionRef) -> RemoteFile | None:
        try:
            data = self.cache.read(kind, ref)
        except Untrusted as exc:
            if not self._untrusted_said:
                self._untrusted_said = True
                self._notes.append(f"ignored the action metadata cache entry: {exc}; remove "
                                   "it (entries must be yours and writable by you only)")
            return None
        except OSError:
            return None
        if data is None:
            return None
        try:
            entry = RemoteFile(data["status"], data.get("text"), str(data["url"]),
                               float(data["fetched"]))
        except (ValueError, KeyError, TypeError):
            return None  # written by another version: fetch again
        if origin(entry.url) not in self._origins or not isinstance(entry.text, str | None):
            return None  # not an answer of this host
        return entry

    def _write_cache(self, kind: str, ref: ActionRef, fetched: RemoteFile) -> None:
        data: dict[str, Any] = {"status": fetched.status, "url": fetched.url,
                                "fetched": fetched.fetched, "ref": ref.ref, "text": fetched.text}
        with contextlib.suppress(OSError, Untrusted):  # a read-only cache (or one not ours)
            self.cache.write(kind, ref, data)  # only costs refetches
