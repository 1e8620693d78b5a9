"""`gha-fix diagnose --run URL|ID`: a failed run fetched from GitHub, read like a log file.

Only where the bytes come from changes (see the package docstring): the run
(`GET /repos/{owner}/{repo}/actions/runs/{id}`), its jobs (`.../runs/{id}/jobs`, the latest
attempt, or the attempt the URL names), the log of every failed job
(`GET /repos/{owner}/{repo}/actions/jobs/{id}/logs`: a 302 to a storage host, followed without
the token; the last MAX_LOG_BYTES kept) and the workflow file at the run's commit (contents
API), to tie the failing step to its job when the local checkout does not.

A job's raw log is `TIMESTAMP message` lines without job or step names; the jobs API gives
every step's start and end, so each line gets the job's name and the step whose time window
holds its timestamp (the failing step when two windows share the second), as the lines of
`gh run view --log-failed` have them.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gha_fix.codemod.github_api import MAX_LOG_BYTES, ApiError, Endpoint, GitHubApi
from gha_fix.transforms.diagnose.logs import TIMESTAMP, LogLine, read_text

if TYPE_CHECKING:
    from gha_fix.transforms.diagnose.classify import Finding
    from gha_fix.transforms.diagnose.report import Diagnosis

MAX_JOBS = 20  # failed jobs whose logs are fetched
FAILED = ("failure", "timed_out")
PR_EVENTS = ("pull_request", "pull_request_review", "pull_request_review_comment")
_RUN_PATH = re.compile(r"^/(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+)/actions/runs/"
                       r"(?P<run>\d+)(?:/job/(?P<job>\d+))?(?:/attempts/(?P<attempt>\d+))?/?$")
_SLUG = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_WORKFLOW_PATH = re.compile(r"(\.github/workflows/[^@/]+\.ya?ml)")


class RunError(Exception):
    """The run cannot be fetched or named; one line, says what to do."""


@dataclass(frozen=True)
class RunRef:
    slug: str  # OWNER/REPO
    run_id: int
    job_id: int | None = None  # a URL that names one job (`.../job/ID`)
    attempt: int | None = None


@dataclass
class FetchedRun:
    ref: RunRef
    html_url: str = ""
    event: str = ""
    head_sha: str = ""
    workflow_path: str = ""  # .github/workflows/x.yml, when the run names one
    workflow_text: str | None = None  # at head_sha
    lines: list[LogLine] = field(default_factory=list)
    failed_jobs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # what the run's record says of its token: "fork-read-only", "dependabot-read-only", or
    # None; `same_repository`: a pull request from a branch of the repository (not a fork)
    read_only: str | None = None
    same_repository: bool = False


def parse_run(given: str, where: Endpoint, slug: str | None) -> RunRef:
    """A run URL (on the configured host only: the token goes nowhere else) or a run ID with
    `slug` (from --github-repo or the checkout's origin remote)."""
    text = given.strip()
    if text.isdigit():
        if not slug or not _SLUG.fullmatch(slug):
            raise RunError(f"run {text}: which repository? give --github-repo OWNER/REPO, "
                           "--repo PATH (a checkout with an origin remote) or the run's URL")
        return RunRef(slug, int(text))
    parts = urllib.parse.urlsplit(text)
    match = _RUN_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or match is None:
        raise RunError(f"{given!r}: not a run (expected https://HOST/OWNER/REPO/actions/runs/ID "
                       "or an ID)")
    host = parts.netloc.lower()
    if host != where.host:
        raise RunError(f"{given}: the run is on {host} but gha-fix talks to {where.host}: give "
                       f"--github-url https://{host} (or set GH_HOST={host})")
    job, attempt = match["job"], match["attempt"]
    return RunRef(f"{match['owner']}/{match['repo']}", int(match["run"]),
                  int(job) if job else None, int(attempt) if attempt else None)


def fetch_run(api: GitHubApi, ref: RunRef) -> FetchedRun:
    """The run, the logs of its failed jobs (as lines) and its workflow at the run's commit."""
    base = f"repos/{ref.slug}/actions"
    try:
        run = api.json("GET", f"{base}/runs/{ref.run_id}")
    except ApiError as exc:
        raise RunError(_why(exc, f"run {ref.run_id} of {ref.slug}")) from None
    fetched = FetchedRun(ref, str(run.get("html_url", "")), str(run.get("event", "")),
                         str(run.get("head_sha", "")))
    _token_of(run, fetched)
    jobs_path = (f"{base}/runs/{ref.run_id}/attempts/{ref.attempt}/jobs?per_page=100"
                 if ref.attempt else f"{base}/runs/{ref.run_id}/jobs?filter=latest&per_page=100")
    try:
        jobs = [j for j in api.pages(jobs_path, "jobs") if isinstance(j, dict)]
    except ApiError as exc:
        raise RunError(_why(exc, f"the jobs of run {ref.run_id}")) from None
    failed = [j for j in jobs if j.get("conclusion") in FAILED
              and (ref.job_id is None or j.get("id") == ref.job_id)]
    if not failed:
        conclusion = run.get("conclusion") or run.get("status") or "unknown"
        fetched.notes.append(f"run {ref.run_id} has no failed job (its conclusion: "
                             f"{conclusion}): no log to read")
    if len(failed) > MAX_JOBS:
        fetched.notes.append(f"{len(failed)} jobs failed: the logs of the first {MAX_JOBS} "
                             "are read")
    for job in failed[:MAX_JOBS]:
        fetched.failed_jobs.append(str(job.get("name", "")))
        fetched.lines += _job_lines(api, base, job, len(fetched.lines), fetched.notes)
    fetched.workflow_path = _workflow_path(str(run.get("path", "")))
    return fetched


def _token_of(run: dict[str, Any], fetched: FetchedRun) -> None:
    """A read-only token the run's record shows: Dependabot's (it triggered a pull request or
    push run) or a fork's (a pull request whose head is another repository).
    Sources: https://docs.github.com/en/code-security/dependabot/troubleshooting-dependabot/
    troubleshooting-dependabot-on-github-actions and https://docs.github.com/en/actions/
    security-for-github-actions/security-guides/automatic-token-authentication"""
    actor = _login(run.get("triggering_actor")) or _login(run.get("actor"))
    head, base = _full_name(run.get("head_repository")), _full_name(run.get("repository"))
    if fetched.event in PR_EVENTS and head and base:
        fetched.same_repository = head.lower() == base.lower()
    if actor == "dependabot[bot]" and fetched.event in (*PR_EVENTS, "push"):
        fetched.read_only = "dependabot-read-only"
        fetched.notes.append("the run was triggered by Dependabot: its GITHUB_TOKEN is read-only")
    elif fetched.event in PR_EVENTS and head and base and not fetched.same_repository:
        fetched.read_only = "fork-read-only"
        fetched.notes.append(f"the run is a pull request from the fork {head}: its "
                             "GITHUB_TOKEN is read-only")


def _login(user: Any) -> str:
    return str(user.get("login", "")) if isinstance(user, dict) else ""


def _full_name(repository: Any) -> str:
    return str(repository.get("full_name", "")) if isinstance(repository, dict) else ""


def _adjust(fetched: FetchedRun) -> Callable[[Finding], None]:
    """What the run's record tells, applied to what the log alone tells."""

    def adjust(finding: Finding) -> None:
        if finding.cause == "missing-scope" and fetched.read_only:
            finding.cause = fetched.read_only
        ruled_out = {fetched.read_only} | ({"fork-read-only"} if fetched.same_repository
                                           else set())
        finding.possible = [c for c in finding.possible if c not in ruled_out]

    return adjust


def _why(exc: ApiError, what: str) -> str:
    if exc.status == 404:
        return (f"{what}: not found (HTTP 404): a wrong ID, or a private repository the token "
                "cannot read (it needs `actions: read` / the `repo` scope)")
    if exc.status in (401, 403):
        return f"{what}: refused ({exc}); check the token (GH_TOKEN, `gh auth login`)"
    return f"{what}: {exc}"


def _job_lines(api: GitHubApi, base: str, job: dict[str, Any], offset: int,
               notes: list[str]) -> list[LogLine]:
    name = str(job.get("name", ""))
    try:
        data, cut = api.download(f"{base}/jobs/{job.get('id')}/logs", MAX_LOG_BYTES)
    except ApiError as exc:
        gone = " (logs are kept for a limited time)" if exc.status in (404, 410) else ""
        notes.append(f"the log of job {name!r} could not be fetched: {exc}{gone}")
        return []
    if cut:
        size = f"{MAX_LOG_BYTES // 2**20} MiB" if MAX_LOG_BYTES >= 2**20 else \
            f"{MAX_LOG_BYTES // 1024} KiB"
        notes.append(f"the log of job {name!r} is larger than {size}: only its last {size} "
                     "were read")
    text = data.decode("utf-8", errors="replace")
    if cut:  # the first line may be cut in the middle
        text = text.split("\n", 1)[1] if "\n" in text else ""
    windows = _windows(job.get("steps"))
    lines = read_text(text)
    out: list[LogLine] = []
    for index, (line, raw) in enumerate(zip(lines, text.splitlines())):
        step = _step_at(_timestamp(raw), windows)
        out.append(dataclasses.replace(line, job=name, step=step, number=offset + index + 1))
    return out


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime
    name: str
    failed: bool


def _windows(steps: Any) -> list[_Window]:
    out: list[_Window] = []
    for step in steps if isinstance(steps, list) else []:
        if not isinstance(step, dict):
            continue
        start, end = _when(step.get("started_at")), _when(step.get("completed_at"))
        if start and end:  # whole seconds: the API's milliseconds are often zero
            out.append(_Window(start.replace(microsecond=0),
                               end.replace(microsecond=0) + timedelta(seconds=1),
                               str(step.get("name", "")), step.get("conclusion") in FAILED))
    return out


def _step_at(when: datetime | None, windows: list[_Window]) -> str:
    if when is None:
        return ""
    holding = [w for w in windows if w.start <= when < w.end]
    failed = [w for w in holding if w.failed]
    chosen = failed or holding[-1:]
    return chosen[0].name if chosen else ""


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # logs have 7 digits of fraction
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None) - (parsed.utcoffset() or timedelta())


def _timestamp(raw: str) -> datetime | None:
    match = TIMESTAMP.match(raw)
    return _when(match.group(0).strip().lstrip("\ufeff")) if match else None


def _workflow_path(path: str) -> str:
    """`.github/workflows/x.yml` from the run's `path` (also `o/r/.github/workflows/x.yml@ref`);
    "" for a run without a workflow file (`dynamic/...`: code scanning, Dependabot)."""
    match = _WORKFLOW_PATH.search(path)
    return match.group(1) if match else ""


def _file_at(api: GitHubApi, slug: str, path: str, sha: str, notes: list[str]) -> str | None:
    quoted = urllib.parse.quote(path)
    try:
        data = api.json("GET", f"repos/{slug}/contents/{quoted}?ref={sha}")
        if not isinstance(data, dict) or data.get("encoding") != "base64":
            raise ApiError("not a file")
        return base64.b64decode(str(data.get("content", ""))).decode("utf-8")
    except (ApiError, ValueError) as exc:
        notes.append(f"{path} at {sha[:7]} could not be fetched ({exc}): the step is located "
                     "in the local checkout only")
        return None


def workflow_folder(fetched: FetchedRun, scratch: Path) -> Path | None:
    """A folder holding only the run's workflow at its commit (for `locate`), or None."""
    if fetched.workflow_text is None:
        return None
    target = scratch / fetched.workflow_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(fetched.workflow_text, encoding="utf-8")
    return scratch


def diagnose_fetched(api: GitHubApi, fetched: FetchedRun, repo: Path | None) -> Diagnosis:
    """The diagnosis of a fetched run: located in the local checkout (`repo`) if it fits, else
    in the run's own workflow at its commit (fetched only then); the fetch's notes first."""
    import tempfile

    from gha_fix.transforms.diagnose import diagnose

    adjust = _adjust(fetched)
    result = diagnose(fetched.lines, repo, adjust)
    if (result.workflow is None and result.cause != "unknown" and fetched.workflow_path
            and fetched.head_sha):
        fetched.workflow_text = _file_at(api, fetched.ref.slug, fetched.workflow_path,
                                         fetched.head_sha, fetched.notes)
    if result.workflow is None and fetched.workflow_text is not None:
        with tempfile.TemporaryDirectory(prefix="gha-fix-run-") as scratch:
            folder = workflow_folder(fetched, Path(scratch))
            at_commit = diagnose(fetched.lines, folder, adjust)
        if at_commit.workflow:
            at_commit.notes.append(f"located in {fetched.workflow_path} at the run's commit "
                                   f"{fetched.head_sha[:7]} (fetched from GitHub)")
            result = at_commit
    where = fetched.html_url or f"{fetched.ref.slug} run {fetched.ref.run_id}"
    jobs = ", ".join(repr(j) for j in fetched.failed_jobs) or "none"
    result.notes[:0] = [f"run {where} ({fetched.event or 'event unknown'}, commit "
                        f"{fetched.head_sha[:7] or 'unknown'}); failed jobs read: {jobs}",
                        *fetched.notes]
    return result


def diagnose_run(given: str, repo: Path | None, github_repo: str | None = None,
                 github_url: str | None = None) -> Diagnosis:
    """`gha-fix diagnose --run URL|ID`: the repository of an ID from `github_repo`, else from
    `repo`'s origin remote; RunError (one line) when the run cannot be named or fetched."""
    from gha_fix.codemod.github_api import endpoint, find_token, offline
    from gha_fix.codemod.repo import UNKNOWN_SLUG, origin_slug

    if offline():
        raise RunError("--run needs GitHub, and GHA_FIX_OFFLINE is set")
    where = endpoint(github_url)
    slug = github_repo or (origin_slug(repo) if repo is not None else None)
    ref = parse_run(given, where, None if slug == UNKNOWN_SLUG else slug)
    api = GitHubApi(where, find_token(where.host))
    fetched = fetch_run(api, ref)
    if api.token is None:
        fetched.notes.append("no token (GH_TOKEN, GITHUB_TOKEN or `gh auth login`): public "
                             "runs only, at a low rate limit")
    return diagnose_fetched(api, fetched, repo)
