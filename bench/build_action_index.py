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

    python bench/build_action_index.py [--meta-dir DIR] [--out FILE] [--check]
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from codemod.actions_meta import INDEX_FILE, mentions_token, parse_action  # noqa: E402
from codemod.document import Document, DocumentError  # noqa: E402

DEFAULT_META_DIR = Path("/work/scratch/action-meta")
ACTION_FILES = ("action.yml", "action.yaml")
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


def metadata_files(meta_dir: Path) -> Iterable[tuple[str, Path, dict[str, str]]]:
    """(key, action file, SOURCE fields) for every action under `meta_dir`, sorted by key."""
    found: dict[str, tuple[Path, dict[str, str]]] = {}
    for name in ACTION_FILES:
        for path in meta_dir.rglob(name):
            folder = path.parent
            rel = folder.relative_to(meta_dir).as_posix()
            if rel.count("/") < 1 or any(p.startswith(".") for p in rel.split("/")):
                continue
            source = read_source(folder)
            key = rel.lower()
            if source.get("repo"):  # the SOURCE spelling wins over the folder's
                sub = source.get("path", "").rpartition("/")[0]
                key = f"{source['repo'].lower()}{'/' + sub if sub else ''}"
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
    meta_dir: Path, keys: set[str] | None = None, errors: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Index entries for the actions under `meta_dir` (only `keys` when given)."""
    index: dict[str, dict[str, Any]] = {}
    for key, path, source in metadata_files(meta_dir):
        if keys is not None and key not in keys:
            continue
        try:
            index[key] = index_entry(path, source)
        except DocumentError as exc:
            if errors is not None:
                errors.append(f"{path}: {exc.reason}")
    return index


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
    parser.add_argument("--meta-dir", type=Path, default=DEFAULT_META_DIR)
    parser.add_argument("--out", type=Path, default=INDEX_FILE)
    parser.add_argument("--check", action="store_true", help="fail if --out is not up to date")
    args = parser.parse_args()
    errors: list[str] = []
    index = build_index(args.meta_dir, errors=errors)
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
