"""The repository's default GITHUB_TOKEN ("Workflow permissions"), read from GitHub.

A job without a `permissions:` block (and no top-level one) gets the repository's default:
restricted (`contents: read`, `packages: read`) or permissive (read and write).  gha-fix cannot
see it in the files; the config may say it (`permissions: repository_default:`), and when it
does not, `GET /repos/{owner}/{repo}/actions/permissions/workflow` tells
(`default_workflow_permissions`: `read` or `write`; the token needs read access to the
repository's administration settings, or the classic `repo` scope).

The answer is cached per repository and API host (`$XDG_CACHE_HOME/gha-fix`, the metadata
cache's safety rules, for CACHE_TTL), and said in one line per repository.  Without a token, a
GitHub origin remote or access (403/404), or offline, nothing changes: the run behaves as
without the setting, and the line says why (offline says nothing: it was asked for).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gha_fix.codemod.repo import UNKNOWN_SLUG

if TYPE_CHECKING:
    from gha_fix.codemod.file_cache import FileCache
    from gha_fix.codemod.github_api import Endpoint, Token
    from gha_fix.codemod.github_files import ActionRef

CACHE_TTL = 3600.0  # an hour: a setting rarely changes, and a run should see a change soon
DEADLINE = 10.0  # seconds one repository may spend asking
Setting = Literal["restricted", "permissive"]
_BY_ANSWER: dict[str, Setting] = {"read": "restricted", "write": "permissive"}
# what a failure means (the line is the same for every repository it concerns)
_NO_ACCESS = ("the token cannot read the repository's Actions settings (it needs "
              "`administration: read`, or the classic `repo` scope)")


@dataclass(frozen=True)
class DefaultToken:
    """The repository's default token as read: `setting` (None: not known) and the line that
    says it, or why it is not known ("" for nothing to say)."""

    setting: Setting | None
    line: str = ""


def read_default_token(slug: str, github_url: str | None = None,
                       offline: bool = False) -> DefaultToken:
    """The default token of `slug` (OWNER/REPO): the cache, else GitHub; never raises."""
    from gha_fix.codemod.github_files import offline_requested

    if offline or offline_requested():
        return DefaultToken(None)
    if slug == UNKNOWN_SLUG:
        return DefaultToken(None, "default token: not read from GitHub (no GitHub `origin` "
                            "remote); jobs without a block are treated as before")
    from gha_fix.codemod.github_api import endpoint, find_token  # the client: only now

    where = endpoint(github_url)
    cached = _cache_read(where.api_url, slug)
    if cached is not None:
        return _said(cached, slug)
    stopped = _STOPPED.get(where.api_url)
    if stopped:
        return DefaultToken(None, stopped)
    token = find_token(where.host)
    if token is None:
        return DefaultToken(None, "default token: not read from GitHub (no token: set GH_TOKEN "
                            "or run `gh auth login`; or say it in .github/gha-fix.yml, "
                            "`permissions: repository_default:`)")
    return _ask(where, token, slug)


def _ask(where: Endpoint, token: Token, slug: str) -> DefaultToken:
    from gha_fix.codemod.github_api import ApiError, GitHubApi

    api = GitHubApi(where, token, deadline=DEADLINE, timeout=DEADLINE, retries=1)
    try:
        answer = api.json("GET", f"repos/{slug}/actions/permissions/workflow")
    except ApiError as exc:
        why = _NO_ACCESS if exc.status in (403, 404) else str(exc).split(": ", 1)[-1]
        line = (f"default token: not read from GitHub ({why}); jobs without a block are "
                "treated as before")
        if exc.status in (0, 429):  # no answer, or rate limited: not asked again in this run
            _STOPPED[where.api_url] = line
        return DefaultToken(None, line)
    value = answer.get("default_workflow_permissions") if isinstance(answer, dict) else None
    setting = _BY_ANSWER.get(str(value))
    if setting is None:
        return DefaultToken(None, f"default token: GitHub answered {str(value)[:20]!r}, not "
                            "read or write; jobs without a block are treated as before")
    _cache_write(api.where.api_url, slug, setting)
    return _said(setting, slug)


# API base -> the line said for every further repository of the run, once GitHub did not answer
# or rate-limited (a bulk run must not wait DEADLINE for each of its repositories)
_STOPPED: dict[str, str] = {}


def _said(setting: Setting, slug: str) -> DefaultToken:
    words = ("read-only (restricted: contents and packages read)" if setting == "restricted"
             else "read and write (permissive)")
    return DefaultToken(setting, f"default token of {slug}: {words}, the repository's setting "
                        "on GitHub")


# --- cache ------------------------------------------------------------------------------------


def _cache(api_url: str) -> FileCache:
    from gha_fix.codemod.file_cache import FileCache, source_folder
    from gha_fix.codemod.github_files import default_cache_dir, origin

    return FileCache(default_cache_dir(), source_folder(origin(api_url)))


def _key(slug: str) -> ActionRef:
    """The cache key: the repository, and a `ref` naming the setting."""
    from gha_fix.codemod.github_files import ActionRef

    owner, repo = slug.split("/", 1)
    return ActionRef(owner, repo, "", "workflow-permissions")


def _cache_read(api_url: str, slug: str) -> Setting | None:
    from gha_fix.codemod.file_cache import Untrusted

    try:
        data = _cache(api_url).read("default-token", _key(slug))
    except (OSError, Untrusted, ValueError):
        return None
    if not isinstance(data, dict) or time.time() - float(data.get("fetched", 0)) > CACHE_TTL:
        return None
    setting = data.get("setting")
    return setting if setting in ("restricted", "permissive") else None


def _cache_write(api_url: str, slug: str, setting: Setting) -> None:
    from gha_fix.codemod.file_cache import Untrusted

    with contextlib.suppress(OSError, Untrusted, ValueError):
        _cache(api_url).write("default-token", _key(slug),
                              {"setting": setting, "fetched": time.time()})
