"""The action metadata resolver against a real HTTP server on loopback (no mocked client)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gha_fix.codemod.github_files import ActionRef, GitHubFiles, ResolverError
from gha_fix.codemod.paths import default_cache_dir
from gha_fix.transforms.analysis.action_metadata import (
    ActionMetadata,
    classify,
    composite_refs,
    load_index,
    meta_from_index,
    token_inputs,
)

ROOT = Path(__file__).resolve().parents[1]
SHA = "0123456789abcdef0123456789abcdef01234567"

NODE_WITH_TOKEN = """\
name: Labeler
inputs:
  repo-token:
    description: token
    default: ${{ github.token }}
  sync-labels:
    default: false
runs:
  using: node20
  main: dist/index.js
"""
NODE_PLAIN = """\
name: Setup thing
inputs:
  version: {default: "1.2"}
  cache: {}
runs: {using: node20, main: index.js}
"""
DOCKER = """\
name: Lint
inputs:
  path: {default: .}
runs:
  using: docker
  image: Dockerfile
"""
MALFORMED = "name: broken\nruns:\n  using: node20\n   main: [unclosed\n"
COMPOSITE = """\
name: Release
inputs:
  token: {default: "${{ github.token }}"}
runs:
  using: composite
  steps:
    - uses: o/plain@v1
    - uses: o/node@v1
      with: {repo-token: "${{ inputs.token }}"}
    - run: gh release create "$TAG"
      shell: bash
      env: {GH_TOKEN: "${{ inputs.token }}"}
"""
WORKFLOW = """\
on: workflow_call
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions: {contents: write}
    steps:
      - uses: o/plain@v1
"""


@dataclass
class Route:
    status: int = 200
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    fail_first: int = 0  # answer 503 to the first N requests


ROUTES: dict[str, Route] = {
    "/o/node/v1/action.yml": Route(body=NODE_WITH_TOKEN),
    "/o/plain/v1/action.yml": Route(body=NODE_PLAIN),
    f"/o/plain/{SHA}/action.yml": Route(body=NODE_PLAIN),
    "/o/yaml-only/v1/action.yaml": Route(body=DOCKER),
    "/o/mono/v2/sub/dir/action.yml": Route(body=DOCKER),
    "/o/limited/v1/action.yml": Route(403, "rate", (("X-RateLimit-Remaining", "0"),
                                                     ("X-RateLimit-Reset", "1700000000"))),
    "/o/busy/v1/action.yml": Route(429, "slow down", (("Retry-After", "30"),)),
    "/o/forbidden/v1/action.yml": Route(403, "no"),
    "/o/slow/v1/action.yml": Route(body=NODE_PLAIN, delay=1.5),
    "/o/bad/v1/action.yml": Route(body=MALFORMED),
    "/o/comp/v1/action.yml": Route(body=COMPOSITE),
    "/o/flaky/v1/action.yml": Route(body=NODE_PLAIN, fail_first=1),
    "/o/wf/v1/.github/workflows/publish.yml": Route(body=WORKFLOW),
    "/api/repos/o/viaapi/contents/action.yml": Route(body=NODE_PLAIN),
    "/api/repos/o/fetched/commits/HEAD": Route(body=SHA),
    f"/o/fetched/{SHA}/sub/action.yaml": Route(body=DOCKER),
    "/o/loop/v1/action.yml": Route(body="runs:\n  using: composite\n  steps:\n"
                                        "    - uses: o/loop@v1\n"),
}


class Server:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.auth: list[str | None] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                with server.lock:
                    server.hits[path] += 1
                    count = server.hits[path]
                    server.auth.append(self.headers.get("Authorization"))
                route = ROUTES.get(path, Route(404, "404: Not Found"))
                if route.delay:
                    time.sleep(route.delay)
                status = 503 if count <= route.fail_first else route.status
                body = route.body.encode()
                try:
                    self.send_response(status)
                    for name, value in route.headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def total(self) -> int:
        return sum(self.hits.values())


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture(autouse=True)
def no_env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


def resolver(server: Server, cache: Path, **kw: object) -> ActionMetadata:
    """The analysis's metadata lookup over the engine's fetcher, both against `server`."""
    index = kw.pop("index", {})
    options: dict[str, object] = {
        "base_url": server.url, "api_url": server.url + "/api", "timeout": 0.5,
        "retries": 1, "backoff": 0.01,
    }
    options.update(kw)
    return ActionMetadata(GitHubFiles(cache, **options), index=index)  # type: ignore[arg-type]


# --- references and classification --------------------------------------------------------


def test_parse_refs() -> None:
    ref = ActionRef.parse("Actions/Checkout@v4")
    assert (ref.owner, ref.repo, ref.path, ref.ref, ref.key) == (
        "Actions", "Checkout", "", "v4", "actions/checkout")
    sub = ActionRef.parse("github/codeql-action/init@" + SHA)
    assert sub.path == "init" and sub.pinned and sub.key == "github/codeql-action/init"
    wf = ActionRef.parse("o/r/.github/workflows/ci.yml@release/1.x")
    assert wf.is_workflow and wf.ref == "release/1.x" and not wf.pinned
    for bad in ("./local", "docker://alpine:3", "actions/checkout", "checkout@v4",
                "o/r/../x@v1", "${{ matrix.a }}@v1", "o/r@"):
        with pytest.raises(ValueError):
            ActionRef.parse(bad)


def test_classify_from_metadata(server: Server, tmp_path: Path) -> None:
    r = resolver(server, tmp_path)
    node = r.action("o/node@v1")
    assert node is not None and node.using == "node20"
    assert node.inputs == {"repo-token": "${{ github.token }}", "sync-labels": "false"}
    assert token_inputs(node) == ["repo-token"] and classify(node) == "token"
    plain = r.action("o/plain@v1")
    assert plain is not None and classify(plain) == "no-token"
    assert plain.inputs == {"version": "1.2", "cache": None}
    assert plain.source == f"{server.url}/o/plain/v1/action.yml" and plain.ref == "v1"


def test_runner_plugin_is_token() -> None:
    from gha_fix.transforms.analysis.action_metadata import parse_action

    meta = parse_action("name: Upload\nruns:\n  plugin: 'publish'\n", "action.yml", "v1")
    assert meta.using == "plugin" and classify(meta) == "token"


def test_docker_env_that_passes_the_token_is_token() -> None:
    meta = meta_from_index("o/d", {"using": "docker", "env": {"T": "${{ secrets.GITHUB_TOKEN }}"}})
    assert classify(meta) == "token"
    assert classify(meta_from_index("o/d", {"using": "docker"})) == "no-token"


# --- fetching -------------------------------------------------------------------------------


def test_action_yaml_fallback_and_subpath(server: Server, tmp_path: Path) -> None:
    r = resolver(server, tmp_path)
    meta = r.action("o/yaml-only@v1")
    assert meta is not None and meta.using == "docker" and classify(meta) == "no-token"
    assert server.hits["/o/yaml-only/v1/action.yml"] >= 1  # tried first
    sub = r.action("o/mono/sub/dir@v2")
    assert sub is not None and sub.source.endswith("/o/mono/v2/sub/dir/action.yml")


def test_404_is_unknown_and_negatively_cached(server: Server, tmp_path: Path) -> None:
    before = server.hits["/o/missing/v1/action.yml"]
    r = resolver(server, tmp_path)
    assert r.action("o/missing@v1") is None
    assert "404" in r.why("o/missing@v1")
    assert r.action("o/missing@v1") is None  # memo: no new request
    again = resolver(server, tmp_path)  # another run, same cache, within the TTL
    assert again.action("o/missing@v1") is None and again.files.requests == 0
    assert server.hits["/o/missing/v1/action.yml"] == before + 1
    expired = resolver(server, tmp_path, ttl=0)
    assert expired.action("o/missing@v1") is None and expired.files.requests == 2


@pytest.mark.parametrize(
    ("uses", "expect"),
    [("o/limited@v1", "HTTP 403"), ("o/busy@v1", "retry after 30 s")],
)
def test_rate_limit_stops_the_run(server: Server, tmp_path: Path, uses: str, expect: str) -> None:
    r = resolver(server, tmp_path)
    with pytest.raises(ResolverError) as err:
        r.action(uses)
    message = str(err.value)
    assert "rate limit" in message and expect in message and "GITHUB_TOKEN" in message
    assert "\n" not in message
    assert r.files.requests == 1  # no retry on a rate limit
    assert r.action(uses) is None  # the answer is kept: no second error
    total = server.total
    assert r.action("o/plain@v1") is None  # the run no longer asks the network
    assert server.total == total and "earlier in this run" in r.why("o/plain@v1")


def test_plain_403_is_unknown_without_stopping(server: Server, tmp_path: Path) -> None:
    r = resolver(server, tmp_path)
    assert r.action("o/forbidden@v1") is None and "HTTP 403" in r.why("o/forbidden@v1")
    assert r.files.stopped is None and r.action("o/plain@v1") is not None


def test_timeout_retries_then_unknown(server: Server, tmp_path: Path) -> None:
    r = resolver(server, tmp_path, index={"o/slow": {"using": "node20", "ref": "v0"}})
    start = time.monotonic()
    meta = r.action("o/slow@v1")
    assert time.monotonic() - start < 5
    # one retry; the raw host answered too slowly but is there: the API is not asked
    assert r.files.requests == 2 and server.hits["/o/slow/v1/action.yml"] == 2
    assert meta is not None and meta.source.startswith("index:")  # the index fills in
    assert not list(tmp_path.rglob("*.json"))  # a failure is not cached


def test_timeout_without_index_says_why(server: Server, tmp_path: Path) -> None:
    r = resolver(server, tmp_path, retries=0)
    assert r.action("o/slow@v1") is None
    assert "timed out" in r.why("o/slow@v1")


def test_a_dead_network_stops_the_run(server: Server, tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: refused at once
    r = resolver(server, tmp_path, base_url=dead, api_url=dead, retries=0)
    assert r.action("o/a@v1") is None and r.action("o/b@v1") is None
    with pytest.raises(ResolverError, match="did not answer 3 times in a row"):
        r.action("o/c@v1")
    requests = r.files.requests
    assert r.action("o/d@v1") is None and r.files.requests == requests


def test_server_error_is_retried(server: Server, tmp_path: Path) -> None:
    meta = resolver(server, tmp_path).action("o/flaky@v1")
    assert meta is not None and server.hits["/o/flaky/v1/action.yml"] == 2


def test_api_fallback_when_raw_host_is_down(server: Server, tmp_path: Path) -> None:
    r = resolver(server, tmp_path, base_url="http://127.0.0.1:9", retries=0)
    meta = r.action("o/viaapi@v1")
    assert meta is not None and "/api/repos/o/viaapi/contents/action.yml" in meta.source


def test_malformed_metadata(server: Server, tmp_path: Path) -> None:
    r = resolver(server, tmp_path, index={"o/bad": {"using": "node20"}})
    assert r.action("o/bad@v1") is None  # the index describes another ref: not used
    assert "malformed" in r.why("o/bad@v1") and "line" in r.why("o/bad@v1")


def test_composite_that_uses_another_action(server: Server, tmp_path: Path) -> None:
    r = resolver(server, tmp_path)
    meta = r.action("o/comp@v1")
    assert meta is not None and classify(meta) == "composite"
    assert composite_refs(meta) == ["o/plain@v1", "o/node@v1"]
    inner = [r.action(uses) for uses in composite_refs(meta)]
    assert [classify(m) for m in inner if m] == ["no-token", "token"]
    doc = meta.document()
    assert doc.data["runs"]["steps"][2]["run"].startswith("gh release create")


def test_remote_reusable_workflow(server: Server, tmp_path: Path) -> None:
    r = resolver(server, tmp_path)
    text = r.workflow("o/wf/.github/workflows/publish.yml@v1")
    assert text == WORKFLOW
    assert r.workflow("o/wf/.github/workflows/nope.yml@v1") is None
    assert "404" in r.why("o/wf/.github/workflows/nope.yml@v1", kind="workflow")


def test_token_is_sent_when_set(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN", "test-token-not-real")
    start = len(server.auth)
    resolver(server, tmp_path).action("o/plain@v1")
    assert server.auth[start:] == ["Bearer test-token-not-real"]


# --- cache ----------------------------------------------------------------------------------


def test_cache_hit_across_runs(server: Server, tmp_path: Path) -> None:
    first = resolver(server, tmp_path)
    assert first.action("o/node@v1") is not None and first.files.requests == 1
    assert first.action("o/node@v1") is not None and first.files.requests == 1  # memo
    second = resolver(server, tmp_path)
    meta = second.action("O/Node@v1")  # owner/repo case does not matter
    assert meta is not None and classify(meta) == "token" and second.files.requests == 0


def test_sha_is_cached_forever_a_tag_for_the_ttl(server: Server, tmp_path: Path) -> None:
    for uses in (f"o/plain@{SHA}", "o/plain@v1"):
        resolver(server, tmp_path).action(uses)
    later = resolver(server, tmp_path, ttl=0)  # every tag entry has expired
    assert later.action(f"o/plain@{SHA}") is not None and later.files.requests == 0
    assert later.action("o/plain@v1") is not None and later.files.requests == 1


def test_stale_entry_beats_the_index_when_the_network_fails(
    server: Server, tmp_path: Path
) -> None:
    gone = Server()  # the host answers once, then is gone (same host: its entry counts)
    resolver(gone, tmp_path).action("o/node@v1")
    gone.httpd.shutdown()
    gone.httpd.server_close()
    down = resolver(gone, tmp_path, ttl=0, retries=0, index={"o/node": {"using": "node16"}})
    meta = down.action("o/node@v1")
    assert meta is not None and meta.using == "node20"


def test_offline_makes_no_request(server: Server, tmp_path: Path) -> None:
    total = server.total
    index = {"o/indexed": {"using": "node20", "inputs": {"token": "${{ github.token }}"},
                           "input_names": ["token", "path"], "source": "o/indexed/action.yml",
                           "ref": SHA}}
    r = resolver(server, tmp_path, offline=True, index=index)
    meta = r.action("o/indexed@v3")
    assert meta is not None and meta.inputs == {"token": "${{ github.token }}", "path": None}
    assert meta.source == "index: o/indexed/action.yml" and meta.ref == SHA
    assert classify(meta) == "token"
    assert r.action("o/plain@v1") is None and "--offline" in r.why("o/plain@v1")
    assert r.workflow("o/wf/.github/workflows/publish.yml@v1") is None
    assert server.total == total and r.files.requests == 0


def test_cache_writes_are_atomic_under_concurrency(server: Server, tmp_path: Path) -> None:
    resolvers = [resolver(server, tmp_path, ttl=0) for _ in range(8)]
    threads = [threading.Thread(target=r.action, args=("o/plain@v1",)) for r in resolvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    files = list(tmp_path.rglob("*"))
    assert not [f for f in files if f.name.startswith(".tmp-")]
    entry = next(f for f in files if f.suffix == ".json")
    assert json.loads(entry.read_text())["status"] == "ok"


def test_two_processes_share_the_cache(server: Server, tmp_path: Path) -> None:
    import subprocess

    script = (
        "import sys; from gha_fix.codemod.github_files import GitHubFiles as F;"
        "from gha_fix.transforms.analysis.action_metadata import ActionMetadata as M;"
        f"r = M(F(sys.argv[1], base_url='{server.url}', ttl=0), index={{}});"
        "m = r.action('o/node@v1'); print(m.using)"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    assert [p.communicate(timeout=30)[0].strip() for p in procs] == ["node20"] * 4
    assert len(list(tmp_path.rglob("*.json"))) == 1
    assert not [f for f in tmp_path.rglob(".tmp-*")]
    again = resolver(server, tmp_path)
    assert again.action("o/node@v1") is not None and again.files.requests == 0


def test_xdg_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "gha-fix"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert default_cache_dir() == Path.home() / ".cache" / "gha-fix"


# --- offline index --------------------------------------------------------------------------


def test_index_build_round_trip(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import build_action_index as build

    for key, text in (("o/node", NODE_WITH_TOKEN), ("o/comp/sub", COMPOSITE),
                      ("o/bad", MALFORMED)):
        folder = tmp_path / "meta" / key
        folder.mkdir(parents=True)
        (folder / "action.yml").write_text(text)
        repo, _, sub = key.partition("/")[2].partition("/")
        path = f"{sub}/action.yml" if sub else "action.yml"
        (folder / "SOURCE").write_text(f"repo: O/{repo}\npath: {path}\ncommit: {SHA}\n")
    errors: list[str] = []
    index = build.build_index(tmp_path / "meta", errors=errors)
    assert sorted(index) == ["o/comp/sub", "o/node"] and len(errors) == 1
    out = tmp_path / "index.yml"
    out.write_text(build.render(index))
    loaded = load_index(out)
    assert loaded["o/node"] == {
        "using": "node20", "inputs": {"repo-token": "${{ github.token }}"},
        "input_names": ["repo-token", "sync-labels"], "source": "O/node/action.yml", "ref": SHA,
    }
    comp = meta_from_index("o/comp/sub", loaded["o/comp/sub"])
    assert classify(comp) == "composite" and composite_refs(comp) == ["o/plain@v1", "o/node@v1"]
    assert comp.document().data["runs"]["steps"][2]["env"] == {"GH_TOKEN": "${{ inputs.token }}"}
    assert build.build_index(tmp_path / "meta", keys={"o/node"}).keys() == {"o/node"}


def test_index_fetch_from_github(server: Server, tmp_path: Path) -> None:
    """`build_action_index.py --fetch LIST`: the default branch's commit, the metadata at that
    commit, a SOURCE naming both; what cannot be fetched is listed, the rest goes on."""
    sys.path.insert(0, str(ROOT / "bench"))
    import build_action_index as build

    listed = tmp_path / "list.txt"
    listed.write_text("# why\nO/fetched/sub   # starter-workflows\no/gone\n")
    slugs = build.read_list(listed)
    assert slugs == ["o/fetched/sub", "o/gone"]
    problems = build.fetch(slugs, tmp_path / "meta", resolver(server, tmp_path / "cache"))
    assert len(problems) == 1 and problems[0].startswith("o/gone: ")
    saved = tmp_path / "meta/o/fetched/sub"
    assert (saved / "action.yaml").read_text() == DOCKER
    assert (saved / "SOURCE").read_text() == (
        f"repo: o/fetched\npath: sub/action.yaml\ncommit: {SHA}\n")
    index = build.build_index(tmp_path / "meta")
    assert index["o/fetched/sub"]["ref"] == SHA and index["o/fetched/sub"]["using"] == "docker"
    offline = resolver(server, tmp_path / "cache", offline=True)
    with pytest.raises(ResolverError):
        offline.files.commit_of("o", "fetched")


def test_index_keeps_the_old_name_of_a_renamed_repo(tmp_path: Path) -> None:
    """GitHub redirects `uses:` of a renamed repository: the folder's name stays a key."""
    sys.path.insert(0, str(ROOT / "bench"))
    import build_action_index as build

    folder = tmp_path / "meta/returntocorp/semgrep-action"
    folder.mkdir(parents=True)
    (folder / "action.yml").write_text(NODE_PLAIN)
    (folder / "SOURCE").write_text(f"repo: semgrep/semgrep-action\npath: action.yml\n"
                                   f"commit: {SHA}\n")
    index = build.build_index([tmp_path / "meta"])
    assert sorted(index) == ["returntocorp/semgrep-action", "semgrep/semgrep-action"]


def test_shipped_index_loads() -> None:
    index = load_index()  # the loader fails loudly when the shipped index is missing
    assert index
    for key, entry in index.items():
        meta = meta_from_index(key, entry)
        assert meta.using and entry.get("source") and entry.get("ref"), key
        classify(meta)


# --- the proposed wiring into the analysis (bench/cross_check.py) -------------------------

CALLER = """\
on: push
jobs:
  plain:
    runs-on: ubuntu-latest
    steps: [{uses: o/plain@v1}]
  labeler:
    runs-on: ubuntu-latest
    steps: [{uses: o/node@v1}]
  labeler-pat:
    runs-on: ubuntu-latest
    steps: [{uses: o/node@v1, with: {repo-token: "${{ secrets.PAT }}"}}]
  plain-env:
    runs-on: ubuntu-latest
    env: {GITHUB_TOKEN: "${{ github.token }}"}
    steps: [{uses: o/plain@v1}]
  composite:
    runs-on: ubuntu-latest
    steps: [{uses: o/comp@v1}]
  loop:
    runs-on: ubuntu-latest
    steps: [{uses: o/loop@v1}]
  call:
    uses: o/wf/.github/workflows/publish.yml@v1
  gone:
    uses: o/wf/.github/workflows/nope.yml@v1
"""


def test_analysis_with_resolver(server: Server, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import cross_check

    from gha_fix.codemod.document import Document
    from gha_fix.codemod.repo import RepoContext

    r = resolver(server, tmp_path)
    make = cross_check.analyser_factory(cross_check.restricted_knowledge(set()), r)
    analyser = make(RepoContext(tmp_path))
    data = Document.from_text("caller.yml", CALLER).data
    jobs = {j: analyser.job(j, job, {}) for j, job in data["jobs"].items()}
    understood = {j for j, n in jobs.items() if n.understood}
    assert understood == {"plain", "labeler-pat", "call"}
    assert jobs["call"].scopes() == {"contents": "write"}
    assert "repo-token" in " ".join(jobs["labeler"].reasons())
    assert "env GITHUB_TOKEN" in " ".join(jobs["plain-env"].reasons())
    comp = " ".join(jobs["composite"].reasons())
    assert "o/comp@v1: action o/node@v1 gets the GITHUB_TOKEN (with: repo-token)" in comp
    assert "uses itself" in " ".join(jobs["loop"].reasons())
    assert "404" in " ".join(jobs["gone"].reasons())


# --- the command line, online against the loopback server ---------------------------------
CALLING = """\
on: push
jobs:
  plain:
    runs-on: ubuntu-latest
    steps:
      - uses: o/plain@v1
  composite:
    runs-on: ubuntu-latest
    steps:
      - uses: o/comp@v1
        with: {tag: v1}
  reusable:
    uses: o/wf/.github/workflows/publish.yml@v1
  limited:
    runs-on: ubuntu-latest
    steps:
      - uses: o/limited@v1
"""


def online_repo(monkeypatch: pytest.MonkeyPatch, server: Server, tmp_path: Path) -> Path:
    """The CLI pointed at the loopback server, with its own cache; a repo folder to fill."""
    monkeypatch.setenv("GHA_FIX_OFFLINE", "0")
    monkeypatch.setenv("GHA_FIX_METADATA_URL", server.url)
    monkeypatch.setenv("GHA_FIX_API_URL", server.url + "/api")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    repo = tmp_path / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    return repo


def test_cli_reads_metadata_online(server: Server, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`gha-fix check` (not --offline) learns unknown actions from their action.yml."""
    from typer.testing import CliRunner

    from gha_fix.codemod.cli import app

    repo = online_repo(monkeypatch, server, tmp_path)
    (repo / ".github/workflows/ci.yml").write_text(CALLING)
    result = CliRunner().invoke(app, ["check", "--select", "permissions", str(repo)])
    out = result.stdout + result.stderr
    assert result.exit_code == 1, out
    # o/plain: a node action the token does not reach (understood, needs nothing); the
    # reusable workflow's job asks for contents: write; o/comp is a composite whose inner
    # o/node gets the token; o/limited hits the rate limit. Unknown jobs keep the top level
    # unrestricted, so the known ones get blocks of their own.
    assert "job plain: add permissions ({})" in out
    assert "job reusable: add permissions (contents: write)" in out
    assert ("job composite left as is: o/comp@v1: action o/node@v1 gets the GITHUB_TOKEN"
            in out)
    assert "job limited left as is: unknown action o/limited@v1" in out
    assert result.stderr.count("rate limit reached") == 1  # said once, the run goes on
    offline = CliRunner().invoke(app, ["check", "--offline", "--select", "permissions",
                                       str(repo)])
    # the answers were cached: offline, the same actions are still understood
    assert "job plain: add permissions ({})" in offline.stdout
    assert "job reusable: add permissions (contents: write)" in offline.stdout


def test_no_name_resolution_stops_at_once(tmp_path: Path) -> None:
    """A machine without DNS (`.invalid` never resolves) is offline for the run: no retries,
    no third attempt, one clear message."""
    r = ActionMetadata(GitHubFiles(tmp_path, base_url="http://gha-fix-test.invalid",
                                   api_url="http://gha-fix-test.invalid/api", timeout=5),
                       index={})
    with pytest.raises(ResolverError) as err:
        r.action("o/plain@v1")
    assert "do not resolve" in str(err.value)
    assert r.files.requests <= 2  # the raw host once, the API host once; no retry, no backoff
    assert r.action("o/other@v1") is None and r.files.requests <= 2


def test_metadata_ttl_option(server: Server, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """--metadata-ttl (or GHA_FIX_METADATA_TTL) decides when a tag's cached metadata is
    fetched again; a bad value is one line and exit 2."""
    from typer.testing import CliRunner

    from gha_fix.codemod import runner
    from gha_fix.codemod.cli import app
    from gha_fix.codemod.github_files import parse_duration

    assert [parse_duration(t) for t in ("90", "90s", "30m", "12h", "7d", "1.5h", "x", "")] == [
        90, 90, 1800, 43200, 604800, 5400, None, None]
    repo = online_repo(monkeypatch, server, tmp_path)
    (repo / ".github/workflows/ci.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: o/plain@v1\n")

    def fetches(*args: str) -> int:
        before = server.hits.get("/o/plain/v1/action.yml", 0)
        result = CliRunner().invoke(app, ["check", *args, str(repo)])
        assert result.exit_code in (0, 1), result.stdout + result.stderr
        return server.hits.get("/o/plain/v1/action.yml", 0) - before

    assert fetches() == 1
    assert fetches() == 0  # cached for a day
    assert fetches("--metadata-ttl", "0s") == 1  # expired at once
    monkeypatch.setenv("GHA_FIX_METADATA_TTL", "0")
    monkeypatch.setattr(runner, "_RESOLVERS", {})  # one resolver per process remembers answers
    assert fetches() == 1
    assert fetches("--metadata-ttl", "7d") == 0  # the option wins over the environment
    bad = CliRunner().invoke(app, ["check", "--metadata-ttl", "soon", str(repo)])
    assert bad.exit_code == 2 and "--metadata-ttl 'soon': expected a duration" in bad.stderr
