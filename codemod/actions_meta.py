"""Metadata of actions the knowledge base does not know: their `action.yml`, and where it is.

A job whose steps use one action the knowledge base lacks is left on the default token.  The
action's own metadata often settles it: a JavaScript or Docker action only sees the
GITHUB_TOKEN through its inputs and env, so one whose inputs never default to
`${{ github.token }}` needs no scope at all; a composite action is analysed step by step.

`MetadataResolver` finds an action's metadata (or a remote reusable workflow's text) at the
ref the workflow pins, in this order:

1. this run's memory (a bulk run fetches each action once);
2. the on-disk cache (`$XDG_CACHE_HOME/gha-fix`, else `~/.cache/gha-fix`), shared by
   processes (writes are temp file + rename); a full commit SHA is cached forever, a tag or
   branch (and a 404) for `ttl` seconds;
3. GitHub (`raw.githubusercontent.com`, then the contents API if the raw host is unreachable),
   unless `offline`; timeouts and 5xx get a small retry with backoff; a rate limit (or three
   fetches in a row with no answer) stops every further request of the run, with a one-line
   `ResolverError`;
4. the offline index shipped in `transforms/data/action_index.yml` (the most used actions,
   built by `bench/build_action_index.py`, each entry with its source and ref);
5. else unknown: `why(ref)` says what would make it known.
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
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal

from gha_fix.codemod.document import Document, DocumentError

INDEX_FILE = Path(__file__).resolve().parents[1] / "transforms" / "data" / "action_index.yml"
ACTION_FILES = ("action.yml", "action.yaml")
SHA = re.compile(r"[0-9a-f]{40}")
# Expression contexts are case-insensitive; `github['token']` is the index-syntax spelling.
TOKEN = re.compile(
    r"github\s*(?:\.\s*token\b|\[\s*['\"]token['\"]\s*\])|secrets\s*\.\s*github_token\b",
    re.IGNORECASE,
)
SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
DEFAULT_TTL = 86400.0  # a day: how long a tag's or branch's cached metadata is trusted
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
MAX_FAILURES = 3  # fetches in a row without an answer before the run stops asking
USER_AGENT = "gha-fix (+https://github.com/; action metadata resolver)"

Classification = Literal["no-token", "token", "composite"]


class ResolverError(Exception):
    """Something the user must know about and can act on (rate limit); one line."""


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


# --- metadata -----------------------------------------------------------------------------


@dataclass
class ActionMeta:
    """What the permissions analysis needs from an `action.yml`."""

    using: str  # node20, docker, composite, ... (lowercased)
    inputs: dict[str, str | None]  # name -> default (None: no default)
    steps: list[dict[str, Any]] = field(default_factory=list)  # composite only
    source: str = ""  # URL, or `index: <repo>/<path>@<commit>` for the offline index
    ref: str = ""  # the ref the metadata was read at
    name: str = ""
    runs: dict[str, Any] = field(default_factory=dict)  # the rest of `runs:` (env, args, ...)
    text: str | None = None  # the raw file, when it was fetched (not for index entries)

    def document(self, shown_as: str | None = None) -> Document:
        """The metadata as a Document, for the analysis of local composite actions.

        Index entries have no text: an equivalent file is rendered from the stored data.
        """
        text = self.text
        if text is None:
            runs: dict[str, Any] = {**self.runs, "using": self.using}
            if self.steps:
                runs["steps"] = self.steps
            inputs = {k: {"default": v} if v is not None else {} for k, v in self.inputs.items()}
            data = {"name": self.name, "inputs": inputs, "runs": runs}
            text = json.dumps(data, indent=1)  # JSON is YAML: no dumper needed
        return Document.from_text(shown_as or self.source or "action.yml", text)


def parse_duration(text: str) -> float | None:
    """`90`, `90s`, `30m`, `12h`, `7d` in seconds; None for anything else."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
    return float(match.group(1)) * unit


def mentions_token(value: Any) -> bool:
    """True when a value (a string, or anything nested) names the GITHUB_TOKEN."""
    if isinstance(value, str):
        return bool(TOKEN.search(value))
    if isinstance(value, dict):
        return any(mentions_token(k) or mentions_token(v) for k, v in value.items())
    if isinstance(value, list):
        return any(mentions_token(v) for v in value)
    return False


def token_inputs(meta: ActionMeta) -> list[str]:
    """Inputs whose default hands the action the GITHUB_TOKEN (`${{ github.token }}`)."""
    return [name for name, default in meta.inputs.items() if mentions_token(default)]


def classify(meta: ActionMeta) -> Classification:
    """How the token can reach the action by its own metadata.

    `no-token`: a JavaScript or Docker action that gets no token unless the step passes one
    (`with:`, or `env:` at step, job or workflow level; the caller checks those).
    `token`: an input default, `runs.env` or `runs.args` gives it the token, or it is an
    old runner plugin (`runs.plugin`), which runs inside the runner.
    `composite`: analyse `meta.steps` like a local composite action.
    """
    if meta.using == "composite":
        return "composite"
    # a runner plugin runs inside the runner, with the job's token
    if meta.using == "plugin" or token_inputs(meta) or mentions_token(meta.runs):
        return "token"
    return "no-token"


def composite_refs(meta: ActionMeta) -> list[str]:
    """The `uses:` of a composite action's steps (local ones are relative to its repo)."""
    return [s["uses"] for s in meta.steps if isinstance(s, dict) and isinstance(s.get("uses"), str)]


def _default(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def parse_action(text: str, source: str, ref: str) -> ActionMeta:
    """Raises DocumentError for a file that is not a usable `action.yml`."""
    data = Document.from_text(source, text).data
    runs = data.get("runs")
    using = runs.get("using") if isinstance(runs, dict) else None
    if isinstance(runs, dict) and using is None and isinstance(runs.get("plugin"), str):
        using = "plugin"  # the old runner plugins (actions/checkout@v1, upload-artifact@v1)
    if not isinstance(using, str) or not using.strip():
        raise DocumentError("no `runs.using`", 0)
    raw_inputs = data.get("inputs") or {}
    if not isinstance(raw_inputs, dict):
        raise DocumentError("`inputs` is not a mapping", 0)
    inputs = {
        str(name): _default(spec.get("default")) if isinstance(spec, dict) else None
        for name, spec in raw_inputs.items()
    }
    steps = runs.get("steps") if using.strip().lower() == "composite" else None
    if steps is not None and not isinstance(steps, list):
        raise DocumentError("`runs.steps` is not a list", 0)
    return ActionMeta(
        using=using.strip().lower(),
        inputs=inputs,
        steps=[s for s in steps or [] if isinstance(s, dict)],
        source=source,
        ref=ref,
        name=str(data.get("name") or ""),
        runs={k: v for k, v in runs.items() if k not in ("using", "steps")},
        text=text,
    )


def meta_from_index(key: str, entry: dict[str, Any]) -> ActionMeta:
    """An offline index entry: only the inputs whose default mentions a token keep it."""
    names = entry.get("input_names") or []
    defaults = entry.get("inputs") or {}
    inputs: dict[str, str | None] = {str(n): None for n in names}
    inputs.update({str(k): _default(v) for k, v in defaults.items()})
    runs = {"env": entry["env"]} if entry.get("env") else {}
    return ActionMeta(
        using=str(entry.get("using", "")).lower(),
        inputs=inputs,
        steps=list(entry.get("steps") or []),
        source=f"index: {entry.get('source', key)}",
        ref=str(entry.get("ref", "")),
        runs=runs,
    )


def load_index(path: Path = INDEX_FILE) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    data = Document.from_file(path, path.name).data
    actions = data.get("actions") or {}
    return {str(k).lower(): v for k, v in actions.items() if isinstance(v, dict)}


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "gha-fix"


# --- the resolver -------------------------------------------------------------------------


@dataclass
class _Fetched:
    status: Literal["ok", "missing"]
    text: str | None
    url: str
    fetched: float


class _RateLimited(Exception):
    pass


class _Missing(Exception):
    pass


class _Unreachable(OSError):
    """The host could not be reached at all (refused, DNS, proxy): another host may work."""


class _NoDNS(_Unreachable):
    """The host name does not resolve: no network here, for the whole run."""


class MetadataResolver:
    """Finds `action.yml` files and remote reusable workflows; see the module docstring."""

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
        index: dict[str, dict[str, Any]] | Path | None = None,
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
        self._index_arg = index
        self._index: dict[str, dict[str, Any]] | None = None
        self._memo: dict[tuple[str, str], ActionMeta | str | None] = {}
        self._why: dict[tuple[str, str], str] = {}
        self.stopped: str | None = None  # why the network is no longer asked (rate limit)
        self.requests = 0  # HTTP requests made, for reports and tests
        self.failures = 0  # fetches in a row that got no answer

    # -- public ----------------------------------------------------------------------------
    @property
    def index(self) -> dict[str, dict[str, Any]]:
        if self._index is None:
            arg = self._index_arg
            if arg is None or isinstance(arg, Path):
                self._index = load_index(arg or INDEX_FILE)
            else:
                self._index = {k.lower(): v for k, v in arg.items()}
        return self._index

    def action(self, ref: ActionRef | str) -> ActionMeta | None:
        """The action's metadata at `ref`, or None (then `why(ref)` says why).

        Raises ResolverError once, when GitHub's rate limit is hit or GitHub stopped
        answering (3 fetches in a row); the answer for that ref (from a stale cache entry or
        the offline index) is kept, so calling again returns it, and later calls do not ask
        the network again.
        """
        ref = ActionRef.parse(ref) if isinstance(ref, str) else ref
        memo_key = ("action", ref.ident)
        if memo_key in self._memo:
            found = self._memo[memo_key]
            return found if isinstance(found, ActionMeta) else None
        fetched, error = self._get("action", ref)
        meta: ActionMeta | None = None
        malformed = False
        if fetched is not None and fetched.status == "ok" and fetched.text is not None:
            try:
                meta = parse_action(fetched.text, fetched.url, ref.ref)
            except DocumentError as exc:
                # Malformed at the pinned ref: the step would fail on GitHub too, and the
                # index, read at another ref, would describe a different file.
                malformed = True
                where = f" (line {exc.line})" if exc.line else ""
                self._why[memo_key] = (
                    f"{ref}: malformed action metadata at {fetched.url}{where}: {exc.reason}"
                )
        if meta is None and not malformed:
            meta = self._from_index(ref, memo_key, fetched)
        self._memo[memo_key] = meta
        if error:
            raise ResolverError(error)
        return meta

    def workflow(self, ref: ActionRef | str) -> str | None:
        """The raw text of a remote reusable workflow (`owner/repo/.github/workflows/x.yml@ref`).

        Raises ResolverError like `action`.
        """
        ref = ActionRef.parse(ref) if isinstance(ref, str) else ref
        memo_key = ("workflow", ref.ident)
        if memo_key in self._memo:
            found = self._memo[memo_key]
            return found if isinstance(found, str) else None
        fetched, error = self._get("workflow", ref)
        text = fetched.text if fetched is not None and fetched.status == "ok" else None
        if text is None:
            self._why.setdefault(memo_key, self._unknown_reason(ref, fetched, indexed=False))
        self._memo[memo_key] = text
        if error:
            raise ResolverError(error)
        return text

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

    def why(self, ref: ActionRef | str, kind: str = "action") -> str:
        """Why `action(ref)` (or `workflow(ref)`) gave nothing, and what would make it known."""
        ref = ActionRef.parse(ref) if isinstance(ref, str) else ref
        return self._why.get((kind, ref.ident), "")

    # -- lookup order ----------------------------------------------------------------------
    def _from_index(
        self, ref: ActionRef, memo_key: tuple[str, str], fetched: _Fetched | None
    ) -> ActionMeta | None:
        entry = self.index.get(ref.key)
        if entry is not None:
            self._why.pop(memo_key, None)
            return meta_from_index(ref.key, entry)
        self._why.setdefault(memo_key, self._unknown_reason(ref, fetched, indexed=True))
        return None

    def _unknown_reason(self, ref: ActionRef, fetched: _Fetched | None, indexed: bool) -> str:
        what = "metadata" if not ref.is_workflow else "workflow"
        if fetched is not None and fetched.status == "missing":
            return f"{ref}: no {what} found at {fetched.url} (404: private, moved or bad ref)"
        tail = " and not in the offline index" if indexed else ""
        if self.stopped:
            return f"{ref}: not fetched (GitHub stopped answering earlier in this run){tail}"
        if self.offline:
            return f"{ref}: not cached{tail}; run without --offline to fetch its {what}"
        return f"{ref}: could not be fetched{tail}"

    def _get(self, kind: str, ref: ActionRef) -> tuple[_Fetched | None, str | None]:
        """Cache, else network: (what was found or None, a rate-limit message or None).

        A stale cache entry at the exact ref is returned when the network cannot answer: it
        beats the offline index, read at another ref.
        """
        memo_key = (kind, ref.ident)
        cached = self._read_cache(kind, ref) if self.use_cache else None
        if cached is not None and self._fresh(ref, cached):
            return cached, None
        if self.offline or self.stopped:
            return cached, None
        try:
            fetched = self._fetch(kind, ref)
        except _RateLimited as exc:
            self.stopped = str(exc)
            self._why[memo_key] = f"{ref}: not fetched (rate limited)"
            return cached, str(exc)
        except OSError as exc:
            self._why[memo_key] = f"{ref}: could not be fetched: {_describe(exc)}"
            self.failures += 1
            if isinstance(exc, _NoDNS):  # no name resolution: this machine is offline
                self.failures = max(self.failures, MAX_FAILURES)
            if self.failures < MAX_FAILURES:
                return cached, None
            # a dead network would cost `timeout` x attempts for every action of the run
            why = ("GitHub's host names do not resolve" if isinstance(exc, _NoDNS)
                   else f"GitHub did not answer {self.failures} times in a row")
            self.stopped = (
                f"{why} ({_describe(exc)}); no more action metadata is fetched in this run "
                "(use the cache, the offline index; --offline skips the attempt)"
            )
            return cached, self.stopped
        self.failures = 0
        if self.use_cache:
            self._write_cache(kind, ref, fetched)
        return fetched, None

    def _fresh(self, ref: ActionRef, entry: _Fetched) -> bool:
        if ref.pinned and entry.status == "ok":
            return True  # a commit's files never change; a 404 may (repo made public)
        return time.time() - entry.fetched < self.ttl

    # -- network ---------------------------------------------------------------------------
    def _urls(self, kind: str, ref: ActionRef) -> list[tuple[str, str]]:
        """(raw URL, API URL) per candidate file, in order."""
        quoted = urllib.parse.quote(ref.ref, safe="/")
        names = [ref.path] if kind == "workflow" else [
            f"{ref.path}/{n}" if ref.path else n for n in ACTION_FILES
        ]
        out = []
        for name in names:
            path = urllib.parse.quote(name)
            raw = f"{self.base_url}/{ref.owner}/{ref.repo}/{quoted}/{path}"
            api = (
                f"{self.api_url}/repos/{ref.owner}/{ref.repo}/contents/{path}"
                f"?ref={urllib.parse.quote(ref.ref, safe='')}"
            )
            out.append((raw, api))
        return out

    def _fetch(self, kind: str, ref: ActionRef) -> _Fetched:
        """Raw host first; the contents API only if the raw host cannot be reached at all.

        (Networks that block raw.githubusercontent.com but allow api.github.com exist; a
        timeout or a 5xx means the raw host is there, so the API is not asked then.)
        """
        urls = self._urls(kind, ref)
        try:
            return self._fetch_first([raw for raw, _ in urls], api=False)
        except _Unreachable as raw_error:
            try:
                return self._fetch_first([api for _, api in urls], api=True)
            except OSError:
                raise raw_error from None

    def _fetch_first(self, urls: list[str], api: bool) -> _Fetched:
        """The first URL that answers 200; `missing` when every one answers 404."""
        for url in urls:
            try:
                text = self._request(url, api)
            except _Missing:
                continue
            return _Fetched("ok", text, url, time.time())
        return _Fetched("missing", None, urls[0], time.time())

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

    def _read_cache(self, kind: str, ref: ActionRef) -> _Fetched | None:
        try:
            data = json.loads(self._cache_path(kind, ref).read_text(encoding="utf-8"))
            return _Fetched(data["status"], data.get("text"), data["url"], float(data["fetched"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent, or written by another version: fetch again

    def _write_cache(self, kind: str, ref: ActionRef, fetched: _Fetched) -> None:
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
