"""List the actions most used in the workflow corpus, to decide what the knowledge base covers.

Counts every `uses: owner/repo[/path]@ref` occurrence (steps and reusable-workflow calls) in
`<corpus>/*/.github/workflows/*.y*ml` and `<corpus>/*/.github/actions/**/action.y*ml`.
Local (`./...`) and `docker://` references are ignored. Keys are lowercased and have no `@ref`,
the form `transforms/data/actions.yml` uses.

    python bench/corpus_actions.py [--corpus DIR] [--top N] [--missing]
"""

from __future__ import annotations

import argparse
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = Path(os.environ.get("GHA_FIX_CORPUS", ROOT.parent / "shared" / "corpus"))
KNOWLEDGE = ROOT / "transforms" / "data" / "actions.yml"

# A text scan, not a YAML parse: it also counts files that do not parse, and `uses:` is
# unambiguous enough (`- uses: x`, `uses: x`, quoted or not, with a trailing comment).
USES = re.compile(r"""^[ \t]*(?:-[ \t]+)?uses:[ \t]*["']?([^"'\s#]+)""", re.MULTILINE)


def corpus_files(corpus: Path) -> Iterator[Path]:
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
        gh = repo / ".github"
        yield from sorted((gh / "workflows").glob("*.y*ml"))
        if (gh / "actions").is_dir():
            yield from sorted(
                p for p in (gh / "actions").rglob("action.y*ml") if p.suffix in (".yml", ".yaml")
            )


def action_key(ref: str) -> str | None:
    """`Actions/Checkout@v4` -> `actions/checkout`; None for local, docker and malformed refs."""
    if ref.startswith(("./", "docker://")) or "@" not in ref:
        return None
    name = ref.split("@", 1)[0].strip("/").lower()
    if name.count("/") < 1 or "${{" in name:
        return None
    return name


def count_actions(corpus: Path = DEFAULT_CORPUS) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in corpus_files(corpus):
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in USES.finditer(text):
            key = action_key(match.group(1))
            if key:
                counts[key] += 1
    return counts


def ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    """Most used first; ties by name, so the top N does not depend on file order."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--top", type=int, default=0, help="only the N most used (0 = all)")
    parser.add_argument(
        "--missing", action="store_true", help="only those without an entry in actions.yml"
    )
    args = parser.parse_args()
    counts = count_actions(args.corpus)
    known: set[str] = set()
    if args.missing:
        from ruamel.yaml import YAML

        known = set(YAML(typ="safe").load(KNOWLEDGE.read_text(encoding="utf-8")) or {})
    total = sum(counts.values())
    top = ranked(counts)[: args.top or None]
    covered = sum(n for key, n in counts.items() if key in known)
    for rank, (key, n) in enumerate(top, 1):
        if key not in known:
            print(f"{rank:5} {n:6}  {key}")
    summary = f"# {len(counts)} actions, {total} uses"
    if args.missing:
        summary += f", {covered} uses ({covered / max(total, 1):.1%}) have an entry"
    print(summary)


if __name__ == "__main__":
    main()
