"""An action's metadata as the analysis reads it, and where it comes from.

A job whose steps use one action the knowledge base lacks is left on the default token.  The
action's own metadata often settles it: a JavaScript or Docker action only sees the
GITHUB_TOKEN through its inputs and env, so one whose inputs never default to
`${{ github.token }}` needs no scope at all; a composite action is analysed step by step.

`ActionMetadata` finds an action's `action.yml` (or a remote reusable workflow's text) at the
ref the workflow pins: this run's memory (a bulk run reads each action once), then the engine's
`GitHubFiles` (on-disk cache, GitHub), then the offline index shipped in
`transforms/data/action_index.yml` (the most used actions, built by
`bench/build_action_index.py`, each entry with its source and ref); else unknown, and
`why(ref)` says what would make it known.
"""

from __future__ import annotations

import json
import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gha_fix.codemod.document import Document, DocumentError
from gha_fix.codemod.github_files import ActionRef, GitHubFiles, RemoteFile, ResolverError
from gha_fix.codemod.repo import ACTION_FILES

# Expression contexts are case-insensitive; `github['token']` is the index-syntax spelling.
TOKEN = re.compile(
    r"github\s*(?:\.\s*token\b|\[\s*['\"]token['\"]\s*\])|secrets\s*\.\s*github_token\b",
    re.IGNORECASE,
)
INDEX_FILE = "action_index.yml"  # in transforms/data

Classification = Literal["no-token", "token", "composite"]


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


def load_index(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The offline index's entries by lowercased key: the shipped one, or a built file."""
    from gha_fix.transforms import knowledge_files

    if path is None:
        data = knowledge_files.load(INDEX_FILE)
    else:
        data = knowledge_files.parse(path.read_text(encoding="utf-8"), INDEX_FILE)
    actions = data.get("actions") or {}
    return {str(k).lower(): v for k, v in actions.items() if isinstance(v, dict)}


def action_files(ref: ActionRef) -> list[str]:
    """Where an action's metadata may be in its repository, in order."""
    return [f"{ref.path}/{n}" if ref.path else n for n in ACTION_FILES]


class ActionMetadata:
    """Actions' metadata and remote reusable workflows, fetched by `files` (cache, GitHub),
    else from the offline index; see the module docstring."""

    def __init__(self, files: GitHubFiles,
                 index: dict[str, dict[str, Any]] | Path | None = None) -> None:
        self.files = files
        self._index_arg = index
        self._index: dict[str, dict[str, Any]] | None = None
        self._memo: dict[tuple[str, str], Any] = {}  # ActionMeta, text, DerivedEntry, None
        self._why: dict[tuple[str, str], str] = {}

    @property
    def index(self) -> dict[str, dict[str, Any]]:
        if self._index is None:
            arg = self._index_arg
            if arg is None or isinstance(arg, Path):
                self._index = load_index(arg)
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
        got = self.files.fetch("action", ref, action_files(ref))
        if got.problem:
            self._why[memo_key] = got.problem
        fetched = got.file
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
        if got.stop:
            raise ResolverError(got.stop)
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
        got = self.files.fetch("workflow", ref, [ref.path])
        if got.problem:
            self._why[memo_key] = got.problem
        fetched = got.file
        text = fetched.text if fetched is not None and fetched.status == "ok" else None
        if text is None:
            self._why.setdefault(memo_key, self._unknown_reason(ref, fetched, indexed=False))
        self._memo[memo_key] = text
        if got.stop:
            raise ResolverError(got.stop)
        return text

    def derived(self, ref: ActionRef, meta: ActionMeta, token_inputs: list[str],
                token_env: list[str]) -> Any:
        """What the action does with the token, derived from its own files at `ref` (its
        README, the code `runs.main` names): a `derive.DerivedEntry`, once per ref and token
        route for the whole run."""
        from gha_fix.transforms.analysis.derive import derive
        from gha_fix.transforms.analysis.derive.remote import RemoteFiles

        memo_key = ("derived", f"{ref.ident} {sorted(token_inputs)} {sorted(token_env)}")
        if memo_key not in self._memo:
            files = RemoteFiles(self.files, ref.owner, ref.repo, ref.ref)
            runs = {**meta.runs, "using": meta.using}
            inputs = {n: {"default": d} for n, d in meta.inputs.items()}
            entry = derive(files, ref.path or ".", {"inputs": inputs, "runs": runs},
                           token_inputs, token_env, action=ref.key)
            entry.ref = ref.ref
            if not entry.understood and files.problems:
                entry.unknown.insert(0, files.problems[0])
            self._memo[memo_key] = entry
        return self._memo[memo_key]

    def why(self, ref: ActionRef | str, kind: str = "action") -> str:
        """Why `action(ref)` (or `workflow(ref)`) gave nothing, and what would make it known."""
        ref = ActionRef.parse(ref) if isinstance(ref, str) else ref
        return self._why.get((kind, ref.ident), "")

    def _from_index(
        self, ref: ActionRef, memo_key: tuple[str, str], fetched: RemoteFile | None
    ) -> ActionMeta | None:
        entry = self.index.get(ref.key)
        if entry is not None:
            self._why.pop(memo_key, None)
            return meta_from_index(ref.key, entry)
        self._why.setdefault(memo_key, self._unknown_reason(ref, fetched, indexed=True))
        return None

    def _unknown_reason(self, ref: ActionRef, fetched: RemoteFile | None, indexed: bool) -> str:
        what = "metadata" if not ref.is_workflow else "workflow"
        if fetched is not None and fetched.status == "missing":
            return f"{ref}: no {what} found at {fetched.url} (404: private, moved or bad ref)"
        tail = " and not in the offline index" if indexed else ""
        if self.files.stopped:
            return f"{ref}: not fetched (GitHub stopped answering earlier in this run){tail}"
        if self.files.offline:
            return f"{ref}: not cached{tail}; run without --offline to fetch its {what}"
        return f"{ref}: could not be fetched{tail}"


_LOOKUPS: weakref.WeakKeyDictionary[GitHubFiles, ActionMetadata] = weakref.WeakKeyDictionary()


def metadata_for(files: GitHubFiles) -> ActionMetadata:
    """One lookup per fetcher (the engine keeps one per process and setting): what it read
    and parsed is remembered for the whole run, across repositories."""
    found = _LOOKUPS.get(files)
    if found is None:
        found = _LOOKUPS[files] = ActionMetadata(files)
    return found
