"""The classification table of `gha-fix diagnose` over the real failure texts
(tests/data/failures/failures.yml): per cause, how many texts, how many classified right and
where they come from; then every text with the cause expected and the cause found.

    python bench/diagnose_table.py [--failures FILE] > bench/diagnose_table.txt

Exit code 1 if any text is classified wrong (the tests check the same, text by text).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
FAILURES = ROOT / "tests" / "data" / "failures" / "failures.yml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--failures", type=Path, default=FAILURES)
    args = parser.parse_args(argv)

    from ruamel.yaml import YAML

    from gha_fix.transforms.diagnose import diagnose
    from gha_fix.transforms.diagnose.logs import read_text
    from gha_fix.transforms.diagnose.signatures import table

    cases = YAML(typ="safe").load(args.failures.read_text(encoding="utf-8"))
    causes = sorted(table().causes)
    rows = []
    for case in cases:
        result = diagnose(read_text(case["text"]))
        right = (result.cause == case["cause"]
                 and result.possible_causes == case.get("possible", [])
                 and ("scopes" not in case or result.scopes == case["scopes"]))
        rows.append((case, result, right))

    width = max(len(c) for c in causes)
    print(f"{'cause':<{width}}  texts  right  sources (hosts)")
    for cause in causes:
        mine = [(c, r, ok) for c, r, ok in rows if c["cause"] == cause]
        hosts = Counter(urlparse(c["url"]).netloc for c, _, _ in mine)
        listed = ", ".join(f"{host} {n}" for host, n in sorted(hosts.items()))
        right = sum(ok for _, _, ok in mine)
        print(f"{cause:<{width}}  {len(mine):>5}  {right:>5}  {listed}")
    total_right = sum(ok for _, _, ok in rows)
    print(f"{'total':<{width}}  {len(rows):>5}  {total_right:>5}")
    print()
    id_width = max(len(c["id"]) for c, _, _ in rows)
    print(f"{'text':<{id_width}}  {'expected':<{width}}  {'found':<{width}}  ok  also possible / "
          "scopes")
    for case, result, right in rows:
        extra = ", ".join(result.possible_causes + result.scopes)
        print(f"{case['id']:<{id_width}}  {case['cause']:<{width}}  {result.cause:<{width}}  "
              f"{'yes' if right else 'NO ':<3} {extra}".rstrip())
    return 0 if total_right == len(rows) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
