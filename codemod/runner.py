"""Run transforms over a repository: parse, collect fixes, apply and verify each, write."""

from __future__ import annotations

import difflib
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gha_fix.codemod.config import ConfigError, load_config
from gha_fix.codemod.credentials import blocked_reason, own_reasons, split_credentials
from gha_fix.codemod.document import Document, DocumentError
from gha_fix.codemod.io import write_result
from gha_fix.codemod.model import (
    FileFix,
    FileNote,
    FileResult,
    Fix,
    FixResult,
    Note,
    NoteResult,
    RepoResult,
    Safety,
    Status,
)
from gha_fix.codemod.repo import RepoContext, origin_slug, relative
from gha_fix.codemod.transform import Transform
from gha_fix.codemod.verify import apply_fixes

if TYPE_CHECKING:
    from gha_fix.codemod.github_files import GitHubFiles

_IGNORE = re.compile(r"#\s*gha-fix:\s*ignore(?:\[([^\]]*)\])?")


@dataclass(frozen=True)
class RunOptions:
    unsafe_fixes: bool = False
    write: bool = False
    config: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    # never fetch action metadata (cache and offline index only); GHA_FIX_OFFLINE=1 does too
    offline: bool = False
    # how long cached metadata of a tag or branch is trusted (a commit SHA's is kept forever);
    # None: GHA_FIX_METADATA_TTL, else a day
    metadata_ttl: float | None = None
    # seconds from `started` after which no metadata is fetched (the run goes on offline);
    # None: GHA_FIX_METADATA_TIMEOUT, else 10
    metadata_timeout: float | None = None
    # when the run started (time.time(), set once where the options are made): the workers
    # of a bulk run get it with the options, so they share one metadata deadline
    started: float = field(default_factory=time.time)
    # --github-url (GitHub Enterprise Server) for what is read from the API (the default
    # token); None: GH_HOST, else github.com
    github_url: str | None = None


_RESOLVERS: dict[tuple[str, ...], GitHubFiles] = {}


def resolver_for(options: RunOptions) -> GitHubFiles:
    """One metadata resolver per process and setting: bulk runs fetch each action once (and
    share the on-disk cache between processes); a run with another start (another deadline)
    gets a new one.  GHA_FIX_OFFLINE=1 is `--offline`; GHA_FIX_METADATA_URL / GHA_FIX_API_URL
    point at a mirror (or a test server); GHA_FIX_METADATA_TTL and GHA_FIX_METADATA_TIMEOUT
    are the defaults of `--metadata-ttl` and `--metadata-timeout`."""
    from gha_fix.codemod.github_files import (
        DEFAULT_TIMEOUT,
        DEFAULT_TTL,
        GitHubFiles,
        offline_requested,
        parse_duration,
    )

    def setting(given: float | None, variable: str, default: float) -> float:
        if given is None:
            given = parse_duration(os.environ.get(variable) or "")
        return default if given is None else given

    offline = options.offline or offline_requested()
    base = os.environ.get("GHA_FIX_METADATA_URL", "https://raw.githubusercontent.com")
    api = os.environ.get("GHA_FIX_API_URL", "https://api.github.com")
    ttl = setting(options.metadata_ttl, "GHA_FIX_METADATA_TTL", DEFAULT_TTL)
    deadline = options.started + setting(options.metadata_timeout, "GHA_FIX_METADATA_TIMEOUT",
                                         DEFAULT_TIMEOUT)
    key = (str(offline), base, api, os.environ.get("XDG_CACHE_HOME", ""), str(ttl))
    found = _RESOLVERS.get(key)
    if found is None or found.deadline != deadline:
        token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
        found = _RESOLVERS[key] = GitHubFiles(offline=offline, token=token, base_url=base,
                                              api_url=api, ttl=ttl, deadline=deadline)
    return found


def suppressed(doc: Document, fix: Fix | Note) -> bool:
    """A `# gha-fix: ignore[id]` comment on the job's line or the line above it."""
    if len(fix.path) < 2 or fix.path[0] != "jobs":
        return False
    key = doc.key_node(fix.path[:2])
    if key is None:
        return False
    for line in (key.start_mark.line, key.start_mark.line - 1):
        if line < 0:
            continue
        match = _IGNORE.search(doc.line_text(line))
        if match and (match.group(1) is None or fix.transform in
                      {i.strip() for i in match.group(1).split(",")}):
            return True
    return False


def process_document(
    doc: Document, transforms: Sequence[Transform], repo: RepoContext, options: RunOptions,
    blocked: dict[str, str] | None = None,
) -> FileResult:
    """`blocked`: credential values whose fixes are dropped (`credentials.split_credentials`)."""
    result = FileResult(doc.path, original=doc.full_text())
    for transform in transforms:
        seen = doc
        due: list[tuple[Fix, int]] = []
        try:
            items = list(transform.run(seen, repo))
        except Exception as exc:  # a bug in one transform must not stop the others
            # the exception's text is not shown: it could hold a value from the file
            result.error = (f"{doc.path}:0: internal error in transform {transform.id} "
                            f"({type(exc).__name__}); this file was left as is")
            return FileResult(doc.path, original=result.original, new=result.original,
                              error=result.error)
        to_original = original_lines(result.original, seen.full_text())
        for item in items:
            line = to_original(seen.line_of(item.path))
            if isinstance(item, Note):
                if not suppressed(seen, item):
                    result.notes.append(NoteResult(item, line))
            elif suppressed(seen, item):
                result.fixes.append(FixResult(item, Status.SUPPRESSED, line))
            elif item.safety is Safety.UNSAFE and not options.unsafe_fixes:
                result.fixes.append(FixResult(item, Status.HELD_BACK, line))
            elif blocked and (reason := blocked_reason(item.secrets, blocked)):
                result.fixes.append(FixResult(item, Status.FAILED, line, reason))
            else:
                due.append((item, line))
        doc = _apply_due(doc, due, result)
    result.new = doc.full_text()
    return result


def _apply_due(doc: Document, due: list[tuple[Fix, int]], result: FileResult) -> Document:
    """Apply `due`, keeping every fix together with the fixes it requires: a fix whose
    requirement is not applied (suppressed, held back, dropped) is dropped too."""
    while True:
        due = _without_orphans(due, result)
        edited, failed = apply_fixes(doc, [fix for fix, _ in due])
        lost = {due[i][0].key for i in failed if due[i][0].key}
        if not any(lost & set(fix.requires) for fix, _ in due):
            break
        for index in sorted(failed):  # the requirers go on the next pass; start again
            fix, line = due[index]
            result.fixes.append(FixResult(fix, Status.FAILED, line, failed[index]))
        due = [item for index, item in enumerate(due) if index not in failed]
    for index, (fix, line) in enumerate(due):
        if index in failed:
            result.fixes.append(FixResult(fix, Status.FAILED, line, failed[index]))
        else:
            result.fixes.append(FixResult(fix, Status.APPLIED, line))
    return edited


def _without_orphans(due: list[tuple[Fix, int]], result: FileResult) -> list[tuple[Fix, int]]:
    while True:
        present = {fix.key for fix, _ in due if fix.key}
        orphans = [(fix, line) for fix, line in due if not set(fix.requires) <= present]
        if not orphans:
            return due
        for fix, line in orphans:
            missing = next(k for k in fix.requires if k not in present)
            result.fixes.append(FixResult(fix, Status.FAILED, line,
                                          f"it relies on the fix for {missing}, which is not"
                                          " applied"))
        due = [item for item in due if item not in orphans]


def original_lines(original: str, current: str) -> Callable[[int], int]:
    """Maps a 1-based line of `current` (the text an earlier transform edited) back to the
    line of `original` it stands at, so every report names lines of the file on disk."""
    if original == current:
        return lambda line: line
    blocks: list[difflib.Match] = []

    def to_original(line: int) -> int:
        if not blocks:  # computed on first use: most transforms report nothing
            matcher = difflib.SequenceMatcher(None, original.splitlines(), current.splitlines())
            blocks.extend(matcher.get_matching_blocks())
        index = line - 1
        for a, b, size in blocks:
            if b <= index < b + size:
                return a + (index - b) + 1
            if b > index:  # inside inserted text: the original line it was inserted before
                return min(a + 1, max(len(original.splitlines()), 1))
        return line

    return to_original


def registry() -> dict[str, type[Transform]]:
    """The transforms by id, in run order (imported on first use: `--help` does not pay)."""
    from gha_fix.transforms import REGISTRY

    return REGISTRY


def read_config(root: Path, options: RunOptions) -> dict:
    """The repository's configuration, validated against the engine's and every transform's
    option schema (ConfigError: one `path:line: reason` line per problem)."""
    schemas = {i: cls.options_schema() for i, cls in registry().items()}
    return load_config(root, schemas, options.config)


def select_transforms(config: dict, options: RunOptions) -> list[Transform]:
    REGISTRY = registry()

    selected = list(options.select or config.get("select") or REGISTRY)
    ignored = set(options.ignore or ()) | set(config.get("ignore") or ())
    unknown = [i for i in [*selected, *ignored] if i not in REGISTRY]
    if unknown:
        raise ConfigError(f"unknown transform id: {', '.join(unknown)} (see `gha-fix transforms`)")
    return [
        REGISTRY[i](config.get(i) if isinstance(config.get(i), dict) else None)
        for i in REGISTRY
        if i in selected and i not in ignored
    ]


def process_repo(
    root: Path, options: RunOptions, transforms: Sequence[Transform] | None = None,
    slug: str | None = None,
) -> RepoResult:
    """Process every workflow of the repo at `root`; one bad file never stops the others.

    `slug` is OWNER/REPO (default: from `root`'s `origin` remote)."""
    result = RepoResult(str(root))
    try:
        config = read_config(root, options)
        chosen = list(transforms) if transforms is not None else select_transforms(config, options)
    except ConfigError as exc:
        result.error = str(exc)
        return result
    unsafe = options.unsafe_fixes or config.get("unsafe-fixes") is True
    if unsafe != options.unsafe_fixes:
        options = RunOptions(**{**options.__dict__, "unsafe_fixes": unsafe})
    repo = RepoContext(root, config, slug=slug or origin_slug(root),
                       resolver=resolver_for(options))
    if "permissions" in {t.id for t in chosen} and not (
            (config.get("permissions") or {}).get("repository_default")):
        from gha_fix.codemod.default_token import read_default_token

        default = read_default_token(repo.slug, options.github_url, options.offline)
        repo.repository_default = default.setting
        result.messages += [default.line] if default.line else []
    blocked: dict[str, str] = {}
    first = files = []
    while True:  # until every credential's fixes are all applied or none (rarely twice)
        files, error = _process_files(repo, chosen, options, blocked)
        first = first or files
        split = {v: why for v, why in split_credentials(files).items() if v not in blocked}
        if not split:
            break
        blocked.update(split)
    if files is not first:
        own_reasons(first, files)
    result.files, result.error = files, error
    if options.write:
        for file in files:
            if file.error is None and (note := write_result(root, file)):
                result.messages.append(note)
    result.messages += repo.warnings
    return result


def _process_files(repo: RepoContext, chosen: Sequence[Transform], options: RunOptions,
                   blocked: dict[str, str]) -> tuple[list[FileResult], str | None]:
    """Every workflow, then the other files the transforms fix; nothing written."""
    result = RepoResult(str(repo.root))
    root = repo.root
    try:
        paths = repo.workflow_files()
    except OSError as exc:
        return [], f"{root}: cannot list .github/workflows: {exc.strerror or exc}"
    for path in paths:
        shown = relative(root, path)
        try:
            result.files.append(_process_workflow(repo, shown, chosen, options, blocked))
        except Exception as exc:  # one file's surprise never fails the repository's others
            result.files.append(FileResult(shown, error=f"{shown}:0: internal error "
                                           f"({type(exc).__name__}); this file was left as is"))
    result.files += process_other_files(repo, chosen, options, result, blocked)
    return result.files, result.error


def _process_workflow(repo: RepoContext, shown: str, transforms: Sequence[Transform],
                      options: RunOptions, blocked: dict[str, str]) -> FileResult:
    try:
        doc = repo.read_document(shown)  # shared with transforms that read other workflows
    except DocumentError as exc:
        return FileResult(shown, error=f"{shown}:{exc.line}: {exc.reason}")
    return process_document(doc, transforms, repo, options, blocked)


def process_other_files(
    repo: RepoContext, transforms: Sequence[Transform], options: RunOptions, done: RepoResult,
    blocked: dict[str, str] | None = None,
) -> list[FileResult]:
    """The fixes and notes of `Transform.run_files` (files other than workflows): each file's
    due fixes applied together, rendered and verified by `python_edit` (a fix that does not
    verify is dropped alone); nothing written (`process_repo` writes)."""
    results: list[FileResult] = []
    taken = {f.path for f in done.files}
    for transform in transforms:
        try:
            items = list(transform.run_files(repo))
        except Exception as exc:  # as in process_document: the text could hold a value
            done.error = done.error or (f"{repo.root}:0: internal error in transform "
                                        f"{transform.id} ({type(exc).__name__}); other files "
                                        "left as is")
            continue
        by_path: dict[str, list[FileFix | FileNote]] = {}
        for item in items:
            by_path.setdefault(item.path, []).append(item)
        for path, file_items in by_path.items():
            fixes = [i for i in file_items if isinstance(i, FileFix)]
            result = _apply_file_fixes(repo, path, fixes, options, path in taken, blocked or {})
            result.notes += [NoteResult(i.note, i.line) for i in file_items
                             if isinstance(i, FileNote)]
            taken.add(path)
            results.append(result)
    return results


def _apply_file_fixes(repo: RepoContext, path: str, fixes: list[FileFix], options: RunOptions,
                      taken: bool, blocked: dict[str, str]) -> FileResult:
    """One file's fixes: held back (unsafe), failed (the file was already edited, the edit
    did not verify, or a fix of the same credential elsewhere is not applied) or applied."""
    from gha_fix.codemod.python_edit import apply_python_fixes

    try:
        source = repo.read_text(path)
    except DocumentError as exc:
        return FileResult(path, error=f"{path}:0: cannot read: {exc.reason}")
    result = FileResult(path, original=source, new=source)
    safe = [i for i, item in enumerate(fixes)
            if not taken and (item.fix.safety is Safety.SAFE or options.unsafe_fixes)]
    dropped = {i: why for i in safe if (why := blocked_reason(fixes[i].fix.secrets, blocked))}
    due = [i for i in safe if i not in dropped]
    failed: dict[int, str] = dict(dropped)
    if due:
        result.new, errors = apply_python_fixes(source, [fixes[i].edits for i in due], path)
        failed.update({due[k]: reason for k, reason in errors.items()})
    for index, item in enumerate(fixes):
        status, reason = Status.APPLIED, ""
        if taken:  # another transform already rewrote it: keep it simple
            status, reason = Status.FAILED, "file already edited"
        elif index in failed:
            status, reason = Status.FAILED, failed[index]
        elif index not in safe:
            status = Status.HELD_BACK
        result.fixes.append(FixResult(item.fix, status, item.line, reason))
    return result
