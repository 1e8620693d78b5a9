"""Build the offline index of action metadata, `transforms/data/action_index.yml`.

The index lets `--offline` runs (and runs that cannot reach GitHub) understand actions the
knowledge base does not cover: for each action it keeps `runs.using`, the names of its inputs,
the defaults that hand it the GITHUB_TOKEN, and, for a composite action, its steps.  Each entry
names the file it was built from (`source`: repo/path) and the commit it was read at (`ref`).

Input: a folder of metadata files, one per action, laid out as
`<meta-dir>/<owner>/<repo>[/<path>]/action.yml` with a `SOURCE` file next to it:

    repo: actions/labeler
    path: action.yml
    commit: 000ca75fe6c5838c790ca73b764419065c1594a6

Re-runnable: the output depends only on the files found (sorted, no dates).

The metadata files are not kept in this repository.  With a network, fetch them first: for
each action of a list (`bench/index_actions.txt`: which actions, and why each was chosen) the
commit its default branch points at now, and the action.yml at that commit (GITHUB_TOKEN or
GH_TOKEN raises the rate limit; GHA_FIX_METADATA_URL / GHA_FIX_API_URL as for gha-fix):

    python bench/build_action_index.py --fetch bench/index_actions.txt --into DIR
    python bench/build_action_index.py [--meta-dir DIR ...] [--out FILE] [--check]
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gha_fix.codemod.document import Document, DocumentError  # noqa: E402
from gha_fix.codemod.github_files import ResolverError  # noqa: E402
from gha_fix.codemod.repo import ACTION_FILES  # noqa: E402
from gha_fix.codemod.runner import RunOptions, resolver_for  # noqa: E402
from gha_fix.transforms.analysis.action_metadata import (  # noqa: E402
    ActionMetadata,
    mentions_token,
    parse_action,
)

# Where this project's builds read the files from (not in the repository): the actions of the
# knowledge base, and the actions chosen independently of the corpus (bench/index_actions.txt).
DEFAULT_META_DIRS = [Path("/work/scratch/action-meta"), Path("/work/scratch/action-meta-popular")]
DEFAULT_META_DIR = DEFAULT_META_DIRS[0]
INDEX_FILE = ROOT / "transforms" / "data" / "action_index.yml"
# What the analysis reads in a step; `name`, `if`, `shell`, ... only make the index bigger.
STEP_KEYS = ("id", "uses", "with", "env", "run")


def read_source(folder: Path) -> dict[str, str]:
    path = folder / "SOURCE"
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def metadata_files(meta_dirs: Path | Sequence[Path]
                   ) -> Iterable[tuple[str, Path, dict[str, str]]]:
    """(key, action file, SOURCE fields) for every action under `meta_dirs`, sorted by key
    (the first folder wins).  A folder named after a repository that has since been renamed
    (SOURCE names the new one) gives both keys: GitHub redirects `uses:` of the old name."""
    found: dict[str, tuple[Path, dict[str, str]]] = {}
    for meta_dir in [meta_dirs] if isinstance(meta_dirs, Path) else meta_dirs:
        for name in ACTION_FILES:
            for path in sorted(meta_dir.rglob(name)):
                folder = path.parent
                rel = folder.relative_to(meta_dir).as_posix()
                if rel.count("/") < 1 or any(p.startswith(".") for p in rel.split("/")):
                    continue
                source = read_source(folder)
                keys = [rel.lower()]
                if source.get("repo"):  # the SOURCE spelling first, the folder's as an alias
                    sub = source.get("path", "").rpartition("/")[0]
                    keys.insert(0, f"{source['repo'].lower()}{'/' + sub if sub else ''}")
                for key in dict.fromkeys(keys):
                    found.setdefault(key, (path, source))
    for key in sorted(found):
        yield key, *found[key]


def index_entry(path: Path, source: dict[str, str]) -> dict[str, Any]:
    """Raises DocumentError for a file that is not usable action metadata."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    meta = parse_action(text, str(path), source.get("commit", ""))
    entry: dict[str, Any] = {"using": meta.using}
    token_defaults = {k: v for k, v in meta.inputs.items() if mentions_token(v)}
    if token_defaults:
        entry["inputs"] = token_defaults
    if meta.inputs:
        entry["input_names"] = list(meta.inputs)
    for key in ("env", "args"):  # docker actions: only when they hand over the token
        if mentions_token(meta.runs.get(key)):
            entry[key] = meta.runs[key]
    if meta.using == "composite":  # the analysis reads them like a local composite action
        entry["steps"] = [{k: v for k, v in s.items() if k in STEP_KEYS} for s in meta.steps]
    repo = source.get("repo", "")
    entry["source"] = f"{repo}/{source.get('path', path.name)}" if repo else path.name
    entry["ref"] = source.get("commit", "")
    return entry


def build_index(
    meta_dirs: Path | Sequence[Path], keys: set[str] | None = None,
    errors: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Index entries for the actions under `meta_dirs` (only `keys` when given)."""
    index: dict[str, dict[str, Any]] = {}
    for key, path, source in metadata_files(meta_dirs):
        if keys is not None and key not in keys:
            continue
        try:
            index[key] = index_entry(path, source)
        except DocumentError as exc:
            if errors is not None:
                errors.append(f"{path}: {exc.reason}")
    return index


def read_list(path: Path) -> list[str]:
    """`owner/repo[/path]` of every line of an action list (`#` starts a comment)."""
    lines = (line.partition("#")[0].strip() for line in path.read_text().splitlines())
    return [line.lower() for line in lines if line]


def fetch(slugs: Iterable[str], into: Path, resolver: ActionMetadata) -> list[str]:
    """Save each action's metadata file and SOURCE under `into`; the problems, one a line."""
    problems = []
    for slug in slugs:
        owner, repo, *sub = slug.split("/")
        try:
            sha = resolver.files.commit_of(owner, repo)
            meta = resolver.action(f"{slug}@{sha}")
        except ResolverError as exc:
            problems.append(f"{slug}: {exc}")
            if resolver.files.stopped:
                break  # rate limited: the rest would fail too
            continue
        if meta is None or meta.text is None:
            problems.append(f"{slug}: {resolver.why(f'{slug}@{sha}') or 'no action.yml'}")
            continue
        name = meta.source.split("?")[0].rsplit("/", 1)[-1]  # action.yml or action.yaml
        folder = into.joinpath(owner, repo, *sub)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(meta.text, encoding="utf-8")
        path = "/".join([*sub, name])
        (folder / "SOURCE").write_text(f"repo: {owner}/{repo}\npath: {path}\ncommit: {sha}\n")
    return problems


def _styled(value: Any, key: str = "") -> Any:
    """Input names on one line, multi-line scripts as literal blocks: a readable diff."""
    if isinstance(value, dict):
        return {k: _styled(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_styled(v) for v in value]
        if key == "input_names":
            seq = CommentedSeq(items)
            seq.fa.set_flow_style()
            return seq
        return items
    # a literal block cannot keep trailing spaces on a line: those strings stay quoted
    if isinstance(value, str) and "\n" in value and all(
        line == line.rstrip() for line in value.splitlines()
    ):
        return LiteralScalarString(value)
    return value


def render(index: dict[str, dict[str, Any]]) -> str:
    by_using: dict[str, int] = {}
    for entry in index.values():
        kind = "node" if entry["using"].startswith("node") else entry["using"]
        by_using[kind] = by_using.get(kind, 0) + 1
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(by_using.items()))
    header = (
        f"# Offline index of action metadata: {len(index)} actions ({kinds}).\n"
        "# Generated by `python bench/build_action_index.py` from the actions' own action.yml,\n"
        "# read from their public repositories at the commit in `ref` (file: `source`).\n"
        "# Per action: runs.using, input names, the defaults that mention the GITHUB_TOKEN,\n"
        "# docker env/args only when they pass it, composite steps (id, uses, with, env, run).\n"
        "# Do not edit: re-run the script.\n"
    )
    yaml = YAML()  # round-trip dumper: flow lists and literal blocks where asked
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump({"actions": {k: _styled(v) for k, v in index.items()}}, out)
    return header + out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meta-dir", type=Path, action="append",
                        help="a folder of metadata files (repeatable; the first one wins)")
    parser.add_argument("--out", type=Path, default=INDEX_FILE)
    parser.add_argument("--check", action="store_true", help="fail if --out is not up to date")
    parser.add_argument("--fetch", type=Path, metavar="LIST",
                        help="fetch the metadata of the actions in LIST into --into, and stop")
    parser.add_argument("--into", type=Path, help="where --fetch saves the files")
    args = parser.parse_args()
    if args.fetch:
        if args.into is None:
            parser.error("--fetch needs --into DIR")
        # the user's cache and token; building the index may take long: an hour's deadline
        resolver = ActionMetadata(resolver_for(RunOptions(metadata_timeout=3600)))
        slugs = read_list(args.fetch)
        problems = fetch(slugs, args.into, resolver)
        for problem in problems:
            print(f"not fetched: {problem}", file=sys.stderr)
        print(f"{args.into}: {len(slugs) - len(problems)} of {len(slugs)} actions fetched")
        sys.exit(1 if problems else 0)
    errors: list[str] = []
    index = build_index(args.meta_dir or DEFAULT_META_DIRS, errors=errors)
    for error in errors:
        print(f"skipped {error}", file=sys.stderr)
    text = render(index)
    Document.from_text(str(args.out), text)  # what the resolver will load must parse
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        sys.exit(0 if current == text else f"{args.out} is out of date: re-run the script")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.out)
    print(f"{args.out}: {len(index)} actions, {len(text)} bytes")


if __name__ == "__main__":
    main()
