"""Build the two REST tables the action deriver reads (`transforms/analysis/derive/`):

- `transforms/data/octokit_methods.yml`: every octokit method (`issues.addLabels`) and the
  REST route it calls (`POST /repos/{owner}/{repo}/issues/{issue_number}/labels`), from
  `src/generated/endpoints.ts` of @octokit/plugin-rest-endpoint-methods (MIT);
- `transforms/data/rest_permissions.yml`: the GitHub App permission each route needs, from
  octokit/app-permissions' `generated/api.github.com.json` (MIT), itself scraped from GitHub's
  "Permissions required for GitHub Apps" page.  App permissions are named with `_`
  (`pull_requests`); the GITHUB_TOKEN scope of the same name uses `-`.  A route listed under
  several permissions can be called with any of them (labels on an issue: issues or
  pull_requests).  Permissions a GITHUB_TOKEN never has (administration, secrets, members,
  ...) are kept as `unavailable`: a call to such a route is not something a job's block can fix.

Both inputs are read from local files (a checkout of each repository); the commit of each is
written as the `source` of the table.  Re-runnable: the output depends only on the inputs.

    python bench/build_rest_tables.py --endpoints DIR/src/generated/endpoints.ts \
        --endpoints-commit SHA --permissions DIR/generated/api.github.com.json \
        --permissions-commit SHA
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "transforms" / "data"

# GitHub App permission -> GITHUB_TOKEN scope (the token's scopes are a subset of the App's)
TOKEN_SCOPES = {
    "actions": "actions", "checks": "checks", "contents": "contents",
    "deployments": "deployments", "discussions": "discussions", "issues": "issues",
    "packages": "packages", "pages": "pages", "pull_requests": "pull-requests",
    "repository_projects": "repository-projects", "security_events": "security-events",
    "statuses": "statuses", "metadata": "metadata",
}
AREA = re.compile(r"^  ([a-zA-Z]+): \{$")
METHOD = re.compile(r"^    ([a-zA-Z]+): \[\s*(?:\"([A-Z]+ [^\"]+)\")?")
ROUTE = re.compile(r"^\s+\"([A-Z]+ /[^\"]*)\"")
ONE_LINE_AREA = re.compile(r"^  ([a-zA-Z]+): \{ (.*) \},?$")  # `rateLimit: { get: [...] },`
INLINE_METHOD = re.compile(r"([a-zA-Z]+): \[\"([A-Z]+ /[^\"]*)\"")


def octokit_methods(text: str) -> dict[str, str]:
    """`area.method` -> `VERB /route`, from endpoints.ts (each method's first string)."""
    methods: dict[str, str] = {}
    area = ""
    pending = ""
    for line in text.splitlines():
        if found := ONE_LINE_AREA.match(line):
            for name, route in INLINE_METHOD.findall(found.group(2)):
                methods[f"{found.group(1)}.{name}"] = route
            continue
        if found := AREA.match(line):
            area = found.group(1)
            continue
        if found := METHOD.match(line):
            if found.group(2):
                methods[f"{area}.{found.group(1)}"] = found.group(2)
            else:
                pending = found.group(1)
            continue
        if pending and (found := ROUTE.match(line)):
            methods[f"{area}.{pending}"] = found.group(1)
            pending = ""
    return methods


def route_permissions(data: dict) -> dict[str, dict]:
    """`VERB /route` -> {level, scopes (any one suffices), unavailable (App-only)}."""
    table: dict[str, dict] = {}
    for permission, lists in sorted(data["permissions"].items()):
        for level in ("read", "write"):
            for route in lists.get(level, []):
                entry = table.setdefault(route, {"level": level, "scopes": [], "unavailable": []})
                if level == "write":
                    entry["level"] = "write"
                scope = TOKEN_SCOPES.get(permission)
                if scope is not None:
                    entry["scopes"].append(scope)
                elif permission != "single_file":  # single_file routes are contents routes
                    entry["unavailable"].append(permission)
    out: dict[str, dict] = {}
    for route, entry in sorted(table.items()):
        scopes = sorted(set(entry["scopes"]))
        if scopes == ["metadata"] or (not scopes and not entry["unavailable"]):
            out[route] = {"level": "read", "scopes": []}  # metadata: every token has it
            continue
        row: dict = {"level": entry["level"], "scopes": [s for s in scopes if s != "metadata"]}
        if entry["unavailable"] and not row["scopes"]:
            row["unavailable"] = sorted(set(entry["unavailable"]))
        out[route] = row
    return out


def render(header: list[str], key: str, rows: dict[str, object]) -> str:
    lines = [f"# {h}" if h else "#" for h in header[:-1]] + [header[-1], f"{key}:"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v, separators=(', ', ': '))}"
              for k, v in rows.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=Path, required=True)
    parser.add_argument("--endpoints-commit", required=True)
    parser.add_argument("--permissions", type=Path, required=True)
    parser.add_argument("--permissions-commit", required=True)
    args = parser.parse_args(argv)
    methods = octokit_methods(args.endpoints.read_text(encoding="utf-8"))
    routes = route_permissions(json.loads(args.permissions.read_text(encoding="utf-8")))
    method_source = ("https://github.com/octokit/plugin-rest-endpoint-methods.js/blob/"
                     f"{args.endpoints_commit}/src/generated/endpoints.ts")
    (DATA / "octokit_methods.yml").write_text(render([
        "Octokit REST methods (`octokit.rest.<area>.<method>`) -> the REST route each calls.",
        "Built by bench/build_rest_tables.py; do not edit by hand.  Licence of the source: MIT.",
        f"source: {json.dumps(method_source)}",
    ], "methods", methods), encoding="utf-8")
    permission_source = ("https://github.com/octokit/app-permissions/blob/"
                         f"{args.permissions_commit}/generated/api.github.com.json")
    (DATA / "rest_permissions.yml").write_text(render([
        "REST route -> the permission a GitHub App (and the GITHUB_TOKEN) needs to call it:",
        "level, scopes (any one of them suffices; [] = metadata, which every token has) and,",
        "for routes only App permissions a GITHUB_TOKEN never has allow, `unavailable`.",
        "Scraped by octokit/app-permissions from",
        "https://docs.github.com/en/rest/authentication/permissions-required-for-github-apps",
        "Built by bench/build_rest_tables.py; do not edit by hand.  Licence of the source: MIT.",
        f"source: {json.dumps(permission_source)}",
    ], "routes", routes), encoding="utf-8")
    print(f"{len(methods)} octokit methods, {len(routes)} routes with a permission")
    return 0


if __name__ == "__main__":
    sys.exit(main())
