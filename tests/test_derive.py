"""The deriver (transforms/analysis/derive/): what an action needs, read from its own files.

The source cases read the actions in tests/data/derive/, written for these tests in the shapes
real actions have (see its README); the expected needs were read off those files by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from gha_fix.codemod.document import Document
from gha_fix.transforms.analysis.derive import DerivedEntry, derive_local
from gha_fix.transforms.analysis.derive.code import CodeFindings, scan_code
from gha_fix.transforms.analysis.derive.endpoints import method_route, route_need
from gha_fix.transforms.analysis.derive.jslex import strip_comments
from gha_fix.transforms.analysis.derive.readme import readme_needs
from gha_fix.transforms.analysis.needs import InputCondition

DATA = ROOT / "tests" / "data" / "derive"


def derive(case: str, token_inputs: list[str] | None = None) -> DerivedEntry:
    root = DATA / case
    meta = Document.from_file(root / "action.yml", "action.yml").data
    return derive_local(root, ".", meta, token_inputs)


def found(entry: DerivedEntry) -> set[tuple[str, str, str, str | None]]:
    return {(n.scope, n.level, n.kind, n.when.input if n.when else None) for n in entry.needs}


def scan(text: str) -> CodeFindings:
    findings = CodeFindings()
    scan_code(text, "x.js", findings)
    return findings


# --- action sources ------------------------------------------------------------------------------


def test_readme_required_permission_per_input() -> None:
    """A need under an input with no default holds only when the step sets it; under an
    input with a default it always holds (actions/stale's README has this form)."""
    entry = derive("sweeper-readme")
    assert entry.understood  # its code is not in the folder; the README says it
    assert found(entry) == {
        ("issues", "write", "readme", "issue-note"),
        ("pull-requests", "write", "readme", "pull-note"),
        ("issues", "write", "readme", None),  # idle-label defaults to `idle`
    }
    by_input = {n.when.input: n.where for n in entry.needs if n.when}
    assert by_input == {"issue-note": "README.md:9", "pull-note": "README.md:17"}


def test_readme_permissions_prose_and_example() -> None:
    """`Requires: `pull-requests: write`` in a permissions section, and the example's
    permissions: block (actions/labeler's README has both)."""
    entry = derive("tagger-readme")
    assert entry.scopes("readme") == {"contents": "read", "pull-requests": "write",
                                      "issues": "write"}
    kinds = {(n.scope, n.evidence) for n in entry.needs}
    assert ("pull-requests", "permissions section") in kinds
    assert ("issues", "permissions: example") in kinds


def test_code_call_sites_through_a_client_built_from_the_token() -> None:
    """List, then delete, caches with a client made by getOctokit from the token input (how
    actions/stale keeps its state)."""
    entry = derive("sweeper-cache-code")
    assert entry.understood, entry.unknown
    assert {(n.scope, n.level, n.evidence) for n in entry.needs} == {
        ("actions", "read", "octokit actions.getActionsCacheList"),
        ("actions", "write", "octokit actions.deleteActionsCacheByKey"),
    }
    assert {n.where for n in entry.needs} == {"src/state-cache-storage.ts:14",
                                              "src/state-cache-storage.ts:31"}


def test_bundle_counts_call_sites_not_the_endpoint_table() -> None:
    """A bundle: the bundled endpoint table (and a deprecation message naming
    `octokit.rest.teams.addOrUpdateProjectPermissionsInOrg()`) and the toolkit's getIDToken
    wrapper are no calls; `api.rest.issues.setLabels(` is."""
    entry = derive("tagger-bundle")
    assert entry.understood, entry.unknown
    assert [(n.scope, n.level, n.evidence, n.alternatives) for n in entry.needs] == [
        ("issues", "write", "octokit issues.setLabels", ("pull-requests",)),
    ]


def test_token_in_a_header_is_not_understood() -> None:
    """The token put in an Authorization header for downloads (as actions/setup-python does)."""
    entry = derive("fetcher-raw-token")
    assert not entry.understood
    assert any("install-tool.ts:13: the token read here may go somewhere other" in r
               for r in entry.unknown)


def test_token_given_through_another_input() -> None:
    """The step hands the token to an input that is no token by default: its reads count."""
    entry = derive("sweeper-cache-code", token_inputs=["repo-token"])
    assert entry.understood
    entry = derive("fetcher-raw-token", token_inputs=[])  # the token is not handed to it
    assert not any("token read here" in r for r in entry.unknown)


# --- own shapes: the rules ---------------------------------------------------------------------


def test_comments_and_strings_are_no_call_sites() -> None:
    text = ("// octokit.rest.issues.lock({})\n/* github.rest.repos.delete() */\n"
            "log('octokit.rest.pulls.merge(')\nawait octokit.rest.issues.get({})\n")
    findings = scan(text)
    assert [(n.scope, n.level, n.where) for n in findings.needs] == [("issues", "read", "x.js:4")]
    assert strip_comments("a // b\nc").splitlines() == ["a     ", "c"]


@pytest.mark.parametrize(("text", "why"), [
    ("await octokit.rest[area][method]({})", "dynamic octokit call"),
    ("await octokit.request(route, params)", "request() with a route"),
    ("await octokit.graphql(`mutation { closeIssue(input: {}) { clientMutationId } }`)",
     "GraphQL call"),
    ("await octokit.rest.issues.doSomethingNew({})", "not in the method table"),
    ("await octokit.rest.repos.delete({owner, repo})", "administration"),
    ("await octokit.request('POST /repos/{owner}/{repo}/frobnicate')", "no permission known"),
    ("const all = await octokit.paginate(options)", "paginate() of options"),
])
def test_what_cannot_be_settled_is_unknown(text: str, why: str) -> None:
    findings = scan(text)
    assert any(why in reason for reason in findings.unknown), findings.unknown


@pytest.mark.parametrize(("text", "expected"), [
    ("octokit.request('POST /repos/{owner}/{repo}/check-runs', {})", ("checks", "write")),
    ("github.request(\"GET /repos/{owner}/{repo}/releases/latest\")", ("contents", "read")),
    ("const {data} = await github.pulls.get({owner, repo, pull_number})",
     ("pull-requests", "read")),
    ("await exec.exec('git', ['push', 'origin', branch])", ("contents", "write")),
    # actions/labeler's shape: a method's options, then paginate() of them
    ("const opts = client.rest.pulls.listFiles.endpoint.merge({owner, repo, pull_number})\n"
     "const files = await client.paginate(opts)", ("pull-requests", "read")),
    ("const id = await core.getIDToken('sigstore')", ("id-token", "write")),
    ("fetch(`${process.env.GITHUB_API_URL}/repos/${owner}/${repo}/deployments`, "
     "{method: 'POST'})", ("deployments", "write")),
])
def test_call_sites_map_to_scopes(text: str, expected: tuple[str, str]) -> None:
    findings = scan(text)
    assert not findings.unknown
    assert [(n.scope, n.level) for n in findings.needs] == [expected]


def test_route_table_prefers_literal_segments() -> None:
    """`actions/caches` is no `{archive_format}/{ref}` download."""
    assert route_need("GET", "/repos/{owner}/{repo}/actions/caches").requirements == (
        ("actions", "read", ()),)
    assert route_need("POST", "/repos/o/r/issues/12/labels").requirements == (
        ("issues", "write", ("pull-requests",)),)
    assert route_need("GET", "/repos/{owner}/{repo}/tarball/main").requirements == (
        ("contents", "read", ()),)
    assert method_route("issues", "addLabels") == \
        "POST /repos/{owner}/{repo}/issues/{issue_number}/labels"


def test_readme_conditions_follow_the_input_default() -> None:
    text = "### comment\n\nRequired permission: `pull-requests: write`\n"
    [set_only] = readme_needs(text, "R.md", {"comment": None})
    assert set_only.when == InputCondition("comment", "set")
    [always] = readme_needs(text, "R.md", {"comment": "true"})
    assert always.when is None
    # a heading that names no input: a plain statement, no condition
    assert readme_needs("### Usage\n\nRequired permissions: `contents: write`\n", "R.md",
                        {"comment": None})[0].when is None


def test_a_fenced_permissions_block_ends_with_its_mapping() -> None:
    text = ("```yaml\njobs:\n  x:\n    permissions:\n      contents: write\n"
            "    steps:\n      - run: echo issues: write\n```\n")
    assert [(n.scope, n.level) for n in readme_needs(text, "R.md", {})] == [("contents", "write")]


def test_code_not_in_the_checkout_and_a_silent_readme_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# x\n\nDoes things.\n")
    meta = {"inputs": {"token": {"default": "${{ github.token }}"}},
            "runs": {"using": "node20", "main": "dist/index.js"}}
    entry = derive_local(tmp_path, ".", meta)
    assert not entry.understood
    assert "its code could not be read" in entry.unknown[0]


def test_an_unreadable_import_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.js").write_text("const x = require('./missing.js')\n")
    meta = {"runs": {"using": "node20", "main": "dist/index.js"}}
    entry = derive_local(tmp_path, ".", meta)
    assert entry.unknown == ["could not read ./missing.js (imported by dist/index.js)"]


def test_readme_saying_more_than_the_code_is_kept_but_the_code_is_granted(
        tmp_path: Path) -> None:
    """Both sources are kept with their file:line; the code's needs are what is granted."""
    (tmp_path / "README.md").write_text(
        "```yaml\npermissions:\n  contents: write\n  issues: write\n```\n")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.js").write_text(
        "const gh = github.getOctokit(core.getInput('token'))\n"
        "await gh.rest.issues.createComment({owner, repo, issue_number, body})\n")
    meta = {"inputs": {"token": {"default": "${{ github.token }}"}},
            "runs": {"using": "node20", "main": "dist/index.js"}}
    entry = derive_local(tmp_path, ".", meta)
    assert entry.understood
    assert entry.scopes("readme") == {"contents": "write", "issues": "write"}
    assert [(n.scope, n.level, n.where) for n in entry.granted()] == [
        ("issues", "write", "dist/index.js:2")]


def test_the_deriver_is_not_imported_at_start_up() -> None:
    import subprocess
    import sys

    code = ("import sys, gha_fix.codemod.cli, gha_fix.transforms.analysis; "
            "print(any(m.startswith('gha_fix.transforms.analysis.derive') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


CLASS_SHAPE = """\
function getArgs() {
  const args = {
    repoToken: core.getInput('repo-token'),
    days: core.getInput('days')
  };
  if (!args.repoToken) throw new Error('no token');
  return args;
}
class Processor {
  constructor(options, state) {
    this.options = options;
    this.client = getOctokit(this.options.repoToken);
  }
}
const args = getArgs();
const processor = new Processor(args, {});
"""


@pytest.mark.parametrize(("tail", "understood"), [
    ("", True),  # the object goes back to the caller, into a class, to getOctokit
    ("fetch(url, {headers: {authorization: `token ${args.repoToken}`}})\n", False),
    ("send(args)\n", False),  # a function gha-fix cannot find
    ("const copy = args\n", False),  # another name: not followed
    ("yaml.load(args.repoToken)\n", False),  # handed to a function: not a test
    ("const t = args.repoToken || ''\n", False),  # `||` hands the value on
    ("got(url, {auth: args.repoToken})\n", False),  # `auth:` of another client
])
def test_a_token_kept_in_an_object_is_followed(tmp_path: Path, tail: str,
                                               understood: bool) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.js").write_text(CLASS_SHAPE + tail)
    meta = {"inputs": {"repo-token": {"default": "${{ github.token }}"}},
            "runs": {"using": "node20", "main": "dist/index.js"}}
    entry = derive_local(tmp_path, ".", meta)
    assert entry.understood is understood, entry.unknown


@pytest.mark.parametrize(("source", "understood"), [
    # the client goes into a package gha-fix has not read: its calls are unseen
    ("import {publish} from 'release-lib'\n"
     "const octokit = github.getOctokit(core.getInput('token'))\n"
     "await publish(octokit, 'v1')\n", False),
    # the same call to a function of the action's own code, which is read
    ("import * as github from '@actions/github'\n"
     "function publish(client, tag) {\n"
     "  return client.rest.repos.createRelease({owner, repo, tag_name: tag})\n}\n"
     "const octokit = github.getOctokit(core.getInput('token'))\n"
     "await publish(octokit, 'v1')\n", True),
])
def test_a_client_handed_to_unread_code_is_unknown(tmp_path: Path, source: str,
                                                   understood: bool) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.ts").write_text(source)
    (tmp_path / "package.json").write_text("{}")
    meta = {"inputs": {"token": {"default": "${{ github.token }}"}},
            "runs": {"using": "node20", "main": "dist/index.js"}}
    entry = derive_local(tmp_path, ".", meta)
    assert entry.understood is understood, entry.unknown
    if understood:
        assert entry.scopes() == {"contents": "write"}


def test_a_docker_action_running_node_is_read_as_javascript(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM node:22-slim\nCOPY . /action\nWORKDIR /action\nRUN npm install\n"
        'ENTRYPOINT ["node", "/action/main.js"]\n')
    (tmp_path / "main.js").write_text(
        "const github = require('@actions/github')\n"
        "const core = require('@actions/core')\n"
        "const octokit = github.getOctokit(core.getInput('token'))\n"
        "const all = await octokit.paginate('GET /repos/:owner/:repo/releases', {owner, repo})\n"
        "await octokit.rest.repos.uploadReleaseAsset({owner, repo, release_id, name, data})\n")
    meta = {"inputs": {"token": {"required": True}},
            "runs": {"using": "docker", "image": "Dockerfile"}}
    entry = derive_local(tmp_path, ".", meta, token_inputs=["token"])
    assert entry.understood, entry.unknown
    assert [(n.scope, n.level, n.where) for n in entry.needs] == [
        ("contents", "write", "main.js:5"), ("contents", "read", "main.js:4")]
    # a shell entry point is not analysed: unknown unless the README says it
    (tmp_path / "Dockerfile").write_text('FROM alpine\nCOPY entrypoint.sh /\n'
                                         'ENTRYPOINT ["/entrypoint.sh"]\n')
    assert not derive_local(tmp_path, ".", meta, token_inputs=["token"]).understood


def test_the_token_as_the_auth_option_of_an_octokit_client(tmp_path: Path) -> None:
    """actions/first-interaction's shape: `new Octokit({ auth: getInput(...) })` over lines;
    the same `auth:` for another client is a raw use."""
    (tmp_path / "dist").mkdir()
    meta = {"inputs": {"repo_token": {"default": "${{ github.token }}"}},
            "runs": {"using": "node20", "main": "dist/index.js"}}
    for client, understood in (("new Octokit", True), ("new HttpClient", False)):
        (tmp_path / "dist" / "index.js").write_text(
            f"const octokit = {client}({{\n"
            "    auth: core.getInput('repo_token', { required: true })\n});\n"
            "await octokit.rest.issues.createComment({owner, repo, issue_number, body})\n")
        assert derive_local(tmp_path, ".", meta).understood is understood
