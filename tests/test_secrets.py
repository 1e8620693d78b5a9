"""The `secrets` transform: every token family, every shell, Python scripts, look-alikes, the
secrets file, and no value in any output channel.

Fake tokens are built by concatenation at test time (so the repository holds no literal that a
push-protection scanner would flag); they match the rules' regexes and are obviously fake.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, corpus_repos
from typer.testing import CliRunner

from gha_fix.codemod.cli import app
from gha_fix.codemod.document import Document
from gha_fix.codemod.model import Safety, Status
from gha_fix.codemod.repo import origin_slug
from gha_fix.codemod.runner import RunOptions, process_repo
from gha_fix.codemod.secrets_file import SecretsFileError, secrets_mapping, write_secrets_file
from gha_fix.transforms import REGISTRY
from gha_fix.transforms.secrets import SecretsTransform
from gha_fix.transforms.secrets.detect import known_tokens, name_based, rules_in, table
from gha_fix.transforms.secrets.scan import service_values

F = "FAKE"
# rule id → (fake value, key the value must sit under, or None)
FAKES: dict[str, tuple[str, str | None]] = {
    "github-pat": ("ghp_" + F * 9, None),
    "github-fine-grained-pat": ("github_pat_" + F * 20 + "FA", None),
    "github-oauth": ("gho_" + F * 9, None),
    "github-user-to-server": ("ghu_" + F * 9, None),
    "github-server-to-server": ("ghs_" + F * 9, None),
    "github-refresh": ("ghr_" + F * 9, None),
    "gitlab-pat": ("glpat-" + F * 5, None),
    "npm": ("npm_" + F * 9, None),
    "pypi": ("pypi-" + "AgEIcHlwaS5vcmc" + F * 13, None),
    "dockerhub-pat": ("dckr_pat_" + F * 6 + "FAK", None),
    "aws-access-key-id": ("AKIA" + F * 4, None),
    "aws-secret-access-key": ("FAKE/" * 8, "aws-secret-access-key"),
    "slack-token": ("xoxb-" + F * 4, None),
    "slack-webhook": ("https://hooks.slack.com/services/" + "T000FAKE/B000FAKE/" + F * 7, None),
    "discord-webhook": ("https://discord.com/api/webhooks/" + "1" * 18 + "/" + F * 16, None),
    "stripe": ("sk_" + "live_" + F * 6, None),
    "google-api-key": ("AIza" + F * 8 + "FAK", None),
    "anthropic": ("sk-ant-" + "api03-" + F * 21, None),
    "openai": ("sk-" + F * 5 + "T3Blbk" + "FJ" + F * 5, None),
    "openai-project": ("sk-" + "proj-" + F * 12, None),
    "sendgrid": ("SG." + F * 5 + "FA" + "." + F * 10 + "FAK", None),
    "twilio-api-key": ("SK" + "0" * 32, None),
    "twilio-auth-token": ("0f" * 16, "twilio-auth-token"),
    "azure-storage-connection-string": (
        "DefaultEndpointsProtocol=https;AccountName=fake;AccountKey=" + F * 21 + "FA==", None),
    "azure-ad-client-secret": ("abc1" + "Q~" + F * 8, None),
    "heroku": ("HRKU-" + F * 15, None),
    "heroku-legacy": ("-".join("0" * n for n in (8, 4, 4, 4, 12)), "heroku-api-key"),
    "shopify": ("shpat_" + "0" * 32, None),
    "atlassian": ("ATATT3" + F * 46 + "FA", None),
    "digitalocean": ("dop_v1_" + "0" * 64, None),
    "vault": ("hvs." + F * 24, None),
    "terraform-cloud": (F * 3 + "FA" + ".atlasv1." + F * 16, None),
    "sentry-org": ("sntrys_" + "eyJ" + F * 12, None),
    "sentry-user": ("sntryu_" + "0" * 64, None),
    "datadog-api-key": ("0" * 32, "dd-api-key"),
    "datadog-app-key": ("0" * 40, "dd-app-key"),
    "huggingface": ("hf_" + F * 8 + "FA", None),
    "linear": ("lin_api_" + F * 10, None),
    "postman": ("PMAK-" + "0" * 24 + "-" + "0" * 34, None),
    "grafana": ("glsa_" + F * 8 + "_" + "0" * 8, None),
    "jwt": ("eyJ" + F * 4 + ".eyJ" + F * 4 + "." + F * 4, None),
    "private-key": (
        "-----BEGIN " + "PRIVATE KEY-----\n" + F * 16 + "\n-----END " + "PRIVATE KEY-----", None),
}
PASSWORD = "Passw0rd" + "Admin"  # a name-based hit (as in the issue)
GHP = FAKES["github-pat"][0]
NPM = FAKES["npm"][0]


def make_repo(tmp_path: Path, workflow: str, files: dict[str, str] | None = None) -> Path:
    repo = tmp_path / "repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text(workflow)
    for rel, text in (files or {}).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    return repo


def apply(repo: Path, unsafe: bool = False):
    result = process_repo(repo, RunOptions(write=True, unsafe_fixes=unsafe), [SecretsTransform()])
    assert result.errors == []
    return result


def workflow_text(repo: Path) -> str:
    return (repo / ".github" / "workflows" / "ci.yml").read_text()


# --- the rule table ---------------------------------------------------------------------------
def test_rule_table_is_data_with_sources() -> None:
    raw = Document.from_file(ROOT / "transforms" / "data" / "secret_rules.yml", "rules").data
    ids = [r["id"] for r in raw["rules"]]
    assert len(ids) >= 25 and len(set(ids)) == len(ids)
    for rule in raw["rules"]:
        assert rule["source"].startswith("http") and rule["name"] and rule["secret"]
        assert not rule["secret"].startswith("GITHUB_")
    assert set(FAKES) == set(ids), "every rule needs a fake token in this test"
    assert "secrets" in REGISTRY


@pytest.mark.parametrize("rule_id", list(FAKES))
def test_each_family_is_found(rule_id: str) -> None:
    value, key = FAKES[rule_id]
    hits = known_tokens(value, key)
    assert [(h.value, h.safe) for h in hits] == [(value, True)]
    assert next(r for r in table().rules if r.id == rule_id).name == hits[0].label
    # the per-file prefilter keeps the rule when the token sits among other strings
    rule = next(r for r in table().rules if r.id == rule_id)
    if rule.keys is None:
        joined = "\n".join(["on: push", f"x {value}", "echo done"])
        assert rule.required in value
        assert rule in rules_in(joined)
        assert [h.value for h in known_tokens(value, key, rules_in(joined))] == [value]


@pytest.mark.parametrize("rule_id", list(FAKES))
def test_each_family_golden(rule_id: str, tmp_path: Path) -> None:
    """A known format in a `with:` input: replaced by the token type's secret name."""
    value, key = FAKES[rule_id]
    rule = next(r for r in table().rules if r.id == rule_id)
    head = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
    step = f"      - uses: acme/thing@v1\n        with:\n          {key or 'value'}: "
    repo = make_repo(tmp_path, head + step + json.dumps(value) + "\n")
    result = apply(repo)
    assert workflow_text(repo) == head + step + f'"${{{{ secrets.{rule.secret} }}}}"\n'
    [fix] = result.fixes()
    assert fix.status is Status.APPLIED and fix.fix.safety is Safety.SAFE
    assert fix.fix.details["secret"] == rule.secret
    assert value not in fix.fix.message and value not in json.dumps(fix.fix.details)


def test_every_family_in_a_bash_script(tmp_path: Path) -> None:
    values = [v for v, key in FAKES.values() if key is None and "\n" not in v]
    script = "".join(f'          curl -H "X-Key: {v}" https://example.com\n' for v in values)
    repo = make_repo(tmp_path, "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                     "      - name: call\n        run: |\n" + script)
    apply(repo)
    text = workflow_text(repo)
    assert not [v for v in values if v in text]
    data = Document.from_text("ci.yml", text).data
    step = data["jobs"]["a"]["steps"][0]
    assert all(f"${{{k}}}" in step["run"] for k in step["env"])
    assert all(v == f"${{{{ secrets.{k} }}}}" for k, v in step["env"].items())


# --- names ------------------------------------------------------------------------------------
def test_names_same_value_same_name_and_no_github_prefix(tmp_path: Path) -> None:
    other = "ghp_" + "EKAF" * 9
    repo = make_repo(tmp_path, f"""on: push
env:
  GITHUB_TOKEN: {GHP}
jobs:
  a:
    runs-on: ubuntu-latest
    env:
      TOKEN: {GHP}
      RELEASE_TOKEN: {other}
    steps:
      - run: echo
        env:
          GH_PAT: {other}
""", {".github/workflows/second.yml": f"on: push\nenv:\n  X: {GHP}\njobs: {{}}\n"})
    apply(repo)
    data = Document.from_text("ci", workflow_text(repo)).data
    assert data["env"]["GITHUB_TOKEN"] == "${{ secrets.GH_PAT }}"  # never GITHUB_TOKEN itself
    assert data["jobs"]["a"]["env"]["TOKEN"] == "${{ secrets.GH_PAT }}"
    assert data["jobs"]["a"]["env"]["RELEASE_TOKEN"] == "${{ secrets.RELEASE_TOKEN }}"
    assert data["jobs"]["a"]["steps"][0]["env"]["GH_PAT"] == "${{ secrets.RELEASE_TOKEN }}"
    second = (repo / ".github" / "workflows" / "second.yml").read_text()
    assert "X: ${{ secrets.GH_PAT }}" in second


def test_owner_repo_from_origin(tmp_path: Path) -> None:
    assert origin_slug(tmp_path) == "OWNER/REPO"
    (tmp_path / ".git").mkdir()
    for url, slug in [("git@github.com:acme/widgets.git", "acme/widgets"),
                      ("https://github.com/acme/widgets", "acme/widgets"),
                      (f"https://x-access-token:{GHP}@github.com/acme/w.js.git", "acme/w.js"),
                      ("ssh://git@github.com/acme/widgets.git/", "acme/widgets")]:
        (tmp_path / ".git" / "config").write_text(
            f'[core]\n\tbare = false\n[remote "origin"]\n\turl = {url}\n\tfetch = x\n')
        assert origin_slug(tmp_path) == slug


# --- not secrets ------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "value"), [
    ("NPM_TOKEN", "${{ secrets.NPM_TOKEN }}"), ("API_TOKEN", ""), ("API_KEY", "changeme"),
    ("SECRET_KEY", "<token>"), ("ACCESS_TOKEN", "xxx"), ("TOKEN_URL", "https://a.example/tok"),
    ("BASE_SHA", "0123456789abcdef0123456789abcdef01234567"), ("TOKEN_TTL", "3600"),
    ("PASSWORD_FILE", "./secrets/pw.txt"), ("server-password", "CI_DEPLOY_PASSWORD"),
    ("DB_PASSWORD", "postgres"), ("TOKEN", "$(gh auth token)"), ("PASSWORD", "$DB_PASSWORD"),
    ("API_KEY", "your-api-key-here"), ("GH_TOKEN", "ghp_" + "x" * 8),
])
def test_not_secrets(key: str, value: str) -> None:
    assert name_based(key, value) is None
    assert known_tokens(value, key) == []


def test_service_container_passwords_are_test_values() -> None:
    data = {"jobs": {"t": {"services": {"db": {"env": {"MYSQL_ROOT_PASSWORD": "Root-Pass-123"}}}}}}
    tests = service_values(data)
    assert name_based("MYSQL_PASSWORD", "Root-Pass-123") is not None  # high entropy alone
    assert name_based("MYSQL_PASSWORD", "Root-Pass-123", tests) is None


def test_name_based_is_unsafe(tmp_path: Path) -> None:
    text = f"on: push\nenv:\n  PASSWORD: {PASSWORD}\njobs: {{}}\n"
    repo = make_repo(tmp_path, text)
    [held] = apply(repo).fixes()
    assert held.status is Status.HELD_BACK and workflow_text(repo) == text
    [done] = apply(repo, unsafe=True).fixes()
    assert done.status is Status.APPLIED and done.fix.safety is Safety.UNSAFE
    assert workflow_text(repo) == "on: push\nenv:\n  PASSWORD: ${{ secrets.PASSWORD }}\njobs: {}\n"


# --- run: scripts in each shell --------------------------------------------------------------
@pytest.mark.parametrize(("runs_on", "shell", "line", "expected"), [
    ("ubuntu-latest", None, f'curl -H "Authorization: token {GHP}" x',
     'curl -H "Authorization: token ${GH_PAT}" x'),
    ("ubuntu-latest", "bash", f"curl -H 'Authorization: token {GHP}' x",
     "curl -H 'Authorization: token '\"${GH_PAT}\"'' x"),
    ("ubuntu-latest", "sh", f"git clone https://u:{GHP}@github.com/a/b",
     "git clone https://u:${GH_PAT}@github.com/a/b"),
    ("windows-latest", None, f'$h = @{{ Authorization = "token {GHP}" }}',
     '$h = @{ Authorization = "token ${env:GH_PAT}" }'),
    ("ubuntu-latest", "pwsh", f'Invoke-RestMethod -Token "{GHP}" x',
     'Invoke-RestMethod -Token "${env:GH_PAT}" x'),
    ("windows-latest", "cmd", f'curl -H "Authorization: token {GHP}" x',
     'curl -H "Authorization: token %GH_PAT%" x'),
    ("ubuntu-latest", "bash", f"export NPM_TOKEN={NPM}", "export NPM_TOKEN=${NPM_TOKEN}"),
])
def test_run_in_each_shell(tmp_path: Path, runs_on: str, shell: str | None, line: str,
                           expected: str) -> None:
    shell_line = f"        shell: {shell}\n" if shell else ""
    head = f"on: push\njobs:\n  a:\n    runs-on: {runs_on}\n    steps:\n      - name: go\n"
    repo = make_repo(tmp_path, head + shell_line + f"        run: |\n          {line}\n")
    apply(repo)
    name = "NPM_TOKEN" if NPM in line else "GH_PAT"
    env = f"        env:\n          {name}: ${{{{ secrets.{name} }}}}\n"
    run = f"        run: |\n          {expected}\n"
    assert workflow_text(repo) == head + env + shell_line + run


def test_bash_quoting_stays_valid(tmp_path: Path) -> None:
    script = (f"echo \"a {GHP} b\"\necho 'a {GHP} b'\necho a:{GHP}\n"
              f"printf '%s\\n' 'it''s {GHP}'\n")
    repo = make_repo(tmp_path, "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                     "      - run: " + json.dumps(script) + "\n")
    apply(repo)
    new = Document.from_text("ci", workflow_text(repo)).data["jobs"]["a"]["steps"][0]["run"]
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    out = subprocess.run([bash, "-c", new], capture_output=True, text=True,
                         env={**os.environ, "GH_PAT": "VALUE"}, check=True).stdout
    assert out == "a VALUE b\na VALUE b\na:VALUE\nits VALUE\n"


def test_pwsh_single_quotes_and_heredocs_are_noted(tmp_path: Path) -> None:
    text = ("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - shell: pwsh\n        run: Write-Output 'token {GHP}'\n"
            f"      - run: |\n          cat <<'EOF'\n          {GHP}\n          EOF\n")
    repo = make_repo(tmp_path, text)
    result = apply(repo)
    assert workflow_text(repo) == text
    notes = [n.note.message for f in result.files for n in f.notes]
    assert len(notes) == 2 and all("not replaced" in n and GHP not in n for n in notes)


def test_script_edge_cases(tmp_path: Path) -> None:
    aws = FAKES["aws-secret-access-key"][0]
    text = f"""on: push
jobs:
  matrix:
    strategy:
      matrix:
        os: [ubuntu-latest, windows-latest]
    runs-on: ${{{{ matrix.os }}}}
    steps:
      - run: echo {GHP}
  linux:
    runs-on: ubuntu-latest
    steps:
      - run: |
          export AWS_SECRET_ACCESS_KEY={aws}
          echo "$NPM_TOKEN" {NPM}
        env:
          NPM_TOKEN: {NPM}
"""
    repo = make_repo(tmp_path, text)
    result = apply(repo)
    data = Document.from_text("ci", workflow_text(repo)).data
    assert data["jobs"]["matrix"] == Document.from_text("ci", text).data["jobs"]["matrix"]
    [note] = [n.note.message for f in result.files for n in f.notes]
    assert "unknown shell" in note and GHP not in note
    step = data["jobs"]["linux"]["steps"][0]
    assert step["env"] == {"NPM_TOKEN": "${{ secrets.NPM_TOKEN }}",
                           "AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}"}
    assert step["run"] == ('export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}\n'
                           'echo "$NPM_TOKEN" ${NPM_TOKEN}\n')
    assert all(r.fix.safety is Safety.SAFE and r.status is Status.APPLIED
               for r in result.fixes())


# --- Python -----------------------------------------------------------------------------------
def test_python_script_golden(tmp_path: Path) -> None:
    """The python-script golden case: its scripts are rewritten byte-exactly as expected."""
    case = ROOT / "tests" / "golden" / "secrets" / "python-script"
    repo = tmp_path / "repo"
    shutil.copytree(case / "repo", repo)
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "workflow.yml").write_bytes((case / "input.yml").read_bytes())
    apply(repo)
    for expected in (case / "expected_repo").rglob("*.py"):
        rel = expected.relative_to(case / "expected_repo")
        assert (repo / rel).read_text() == expected.read_text(), rel
    assert (repo / ".github/workflows/workflow.yml").read_bytes() == (
        case / "expected.yml").read_bytes()
    again = apply(repo)  # idempotent
    assert again.fixes() == []


def test_python_unsafe_and_partial(tmp_path: Path) -> None:
    source = (f'import requests  # keep\n\nPASSWORD = "{PASSWORD}"\n'
              f"requests.get('x', headers={{'Authorization': 'token {GHP}'}})\n")
    repo = make_repo(tmp_path, "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                     "      - run: python tools/x.py\n", {"tools/x.py": source})
    result = apply(repo)
    statuses = sorted((r.fix.safety.value, r.status.value) for r in result.fixes())
    assert ("unsafe", "held-back") in statuses
    assert (repo / "tools/x.py").read_text() == (
        f'import os\nimport requests  # keep\n\nPASSWORD = "{PASSWORD}"\n'
        "requests.get('x', headers={'Authorization': f'token {os.environ[\"GH_PAT\"]}'})\n")
    apply(repo, unsafe=True)
    assert 'PASSWORD = os.environ["PASSWORD"]' in (repo / "tools/x.py").read_text()
    env = Document.from_text("ci", workflow_text(repo)).data["jobs"]["a"]["steps"][0]["env"]
    assert env == {"GH_PAT": "${{ secrets.GH_PAT }}", "PASSWORD": "${{ secrets.PASSWORD }}"}


def test_python_fix_that_does_not_verify_is_dropped(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine renders and verifies each Python fix: one that would break the file (a read
    inside an implicit concatenation) fails, with its reason, and so does every fix of the same
    credential (the step's env, which also moves NPM: so NPM's fix too); a rendering that would
    change anything else drops every fix and leaves the file as it is."""
    from gha_fix.codemod import python_edit

    source = f'import os\n\nURL = "x" "{GHP}"  # keep\nNPM = "{NPM}"\n'
    workflow = ("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - run: python tools/x.py\n")
    repo = make_repo(tmp_path, workflow, {"tools/x.py": source})
    [script] = [f for f in apply(repo).files if f.path == "tools/x.py"]
    assert [(r.status, GHP in r.fix.secrets) for r in script.fixes] == [
        (Status.FAILED, True), (Status.FAILED, False)]
    assert "does not parse" in script.fixes[0].reason and GHP not in script.fixes[0].reason
    assert "kept with the other fixes of the same credential" in script.fixes[1].reason
    assert (repo / "tools/x.py").read_text() == source
    assert workflow_text(repo) == workflow
    repo = make_repo(tmp_path / "again", workflow, {"tools/x.py": source})
    splice = python_edit._splice
    monkeypatch.setattr(python_edit, "_splice",
                        lambda *args: splice(*args).replace("# keep", "# kept"))
    [script] = [f for f in apply(repo).files if f.path == "tools/x.py"]
    assert {r.status for r in script.fixes} == {Status.FAILED} and not script.changed
    assert (repo / "tools/x.py").read_text() == source


@pytest.mark.parametrize(("source", "parsed"), [
    ('import os\n\nTOKENS = ("GH_TOKEN", "GITHUB_TOKEN")\nprint("CHANGELOG.md")\n', False),
    ('x = 1\nAPI_KEY = "{pw}"\n', True),
    ('client = Client(\n    "x",\n    api_key=\n        "{pw}",\n)\n', True),  # wrapped
    ('CONFIG = {{"password": "{pw}"}}\n', True),  # a dict key names it
    ('URL = "https://x"  # token\n', False),
])
def test_python_files_worth_parsing(source: str, parsed: bool) -> None:
    """libcst (slow to import and run) only sees a file that may hold a credential, and never
    misses one the name rule would find."""
    from gha_fix.transforms.secrets.python import python_hits, worth_parsing

    text = source.format(pw=PASSWORD)
    assert worth_parsing(text) is parsed
    assert bool(python_hits(text)) is parsed


# --- never leak -------------------------------------------------------------------------------
def leak_repo(tmp_path: Path) -> tuple[Path, list[str]]:
    values = [v for v, _ in FAKES.values()] + [PASSWORD]
    env = "".join(f"          {key or f'V{i}'}: {json.dumps(v)}\n"
                  for i, (v, key) in enumerate(FAKES.values()))
    workflow = f"""on:
  workflow_dispatch:
    inputs:
      t:
        default: {GHP}
env:
  ADMIN_PASSWORD: {PASSWORD}
jobs:
  a:
    runs-on: ubuntu-latest
    container:
      image: x
      credentials:
        username: u
        password: {FAKES['dockerhub-pat'][0]}
    steps:
      - uses: acme/x@v1
        env:
{env}      - run: |
          curl -H "Authorization: token {GHP}" x
          export NPM_TOKEN={NPM}
      - run: python scripts/x.py
      - shell: pwsh
        run: Write-Output '{FAKES['gitlab-pat'][0]}'
"""
    script = f'import os\n\nTOKEN = "{GHP}"\nPASSWORD = "{PASSWORD}"\n'
    repo = make_repo(tmp_path, workflow, {"scripts/x.py": script})
    subprocess.run(["git", "init", "-q", str(repo)], check=False)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin",
                    "git@github.com:acme/widgets.git"], check=False)
    return repo, values


def test_no_value_in_any_output_channel(tmp_path: Path) -> None:
    repo, values = leak_repo(tmp_path)
    runner = CliRunner()
    outputs = []
    report = tmp_path / "report.json"
    for args in (["check"], ["check", "--format", "json"], ["check", "--unsafe-fixes"],
                 ["check", "--format", "sarif"], ["check", "--format", "github"],
                 ["check", "--report", str(report)],
                 ["apply", "--dry-run"], ["apply", "--dry-run", "--unsafe-fixes"],
                 ["apply", "--dry-run", "--format", "json"],
                 ["apply", "--no-commit", "--format", "json"],
                 ["apply", "--no-commit", "--unsafe-fixes"]):
        result = runner.invoke(app, [*args, "--select", "secrets", str(repo)])
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        stderr = result.stderr if hasattr(result, "stderr") else ""
        outputs.append((args, result.stdout + stderr))
    outputs.append((["--report"], report.read_text()))
    joined = "\n".join(out for _, out in outputs)
    assert "gh secret set V0 --repo acme/widgets" in joined
    assert "rotate" in joined and "ghp_…(masked)" in joined
    leaks = [(args, v[:8]) for args, out in outputs for v in values if v in out]
    assert leaks == []
    json.loads(outputs[1][1].split("\n", 1)[1] if not outputs[1][1].startswith("{")
               else outputs[1][1])
    # the files: every value replaced except the ones noted (an input default, pwsh quotes)
    left = {FAKES["gitlab-pat"][0], GHP}
    text = "".join(p.read_text() for p in repo.rglob("*") if p.is_file() and ".git/" not in
                   p.as_posix())
    assert [v[:8] for v in values if v in text and v not in left] == []
    assert [p.name for p in repo.rglob("*.gha-fix")] == []  # no temp files left behind


# --- the secrets file -------------------------------------------------------------------------
def test_secrets_file(tmp_path: Path) -> None:
    repo, _ = leak_repo(tmp_path)
    result = process_repo(repo, RunOptions(write=False), [SecretsTransform()])
    mapping = secrets_mapping([result])
    assert mapping["V0"] == GHP and mapping["DOCKERHUB_TOKEN"] == FAKES["dockerhub-pat"][0]
    assert "ADMIN_PASSWORD" not in mapping  # held back
    out = tmp_path / "outside.env"
    out.write_text("old")
    os.chmod(out, 0o644)
    write_secrets_file(out, repo, mapping)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text().splitlines()
    assert f"V0={GHP}" in lines
    assert any(line.startswith('V41="-----BEGIN') and "\\n" in line for line in lines)
    with pytest.raises(SecretsFileError) as error:
        write_secrets_file(repo / "secrets.env", repo, mapping)
    assert GHP not in str(error.value) and not (repo / "secrets.env").exists()
    (repo / ".gitignore").write_text("*.env\n")
    write_secrets_file(repo / "secrets.env", repo, mapping)
    assert stat.S_IMODE((repo / "secrets.env").stat().st_mode) == 0o600


_PRECHECK_SHAPES = [
    'API_KEY = "{pw}"\n',
    'api_key: str = "{pw}"\n',
    'settings.api_key = "{pw}"\n',  # an attribute: libcst names nothing, neither may we
    'client = Client(\n    "x",\n    api_key=\n        "{pw}",\n)\n',
    'CONFIG = {{"password": "{pw}", "user": "me"}}\n',
    'CONFIG = {{"nested": {{"token": "{pw}"}}}}\n',
    'TOKEN = f"{pw}"\n',  # an f-string: not a plain literal
    'TOKEN = b"{pw}"\n',  # bytes
    'password = ("{pw}"\n            "more")\n',  # side by side: libcst decides
    'GH = "ghp_' + "a1B2" * 9 + '"\n',  # a known token under any name
    'print("ghp_' + "a1B2" * 9 + '")\n',
    '# ghp_' + "a1B2" * 9 + '\nx = 1\n',  # only a comment
    'def f(token="{pw}"):\n    return token\n',  # a default value: no keyword of a call
    'TOKEN = "{pw}"\nif True:\n  print(1\n',  # does not parse
    'TOKENS = ("GH_TOKEN", "GITHUB_TOKEN")\npassword = os.environ["PASSWORD"]\n',
]


@pytest.mark.parametrize("shape", _PRECHECK_SHAPES)
def test_python_precheck_never_hides_a_libcst_hit(shape: str) -> None:
    """The standard library's parser decides whether libcst must read a file: whenever
    libcst would find a literal holding a credential, the pre-check says so."""
    from gha_fix.transforms.secrets.python import (
        _comment_hits,
        _libcst_hits,
        literals_may_hold_credentials,
        python_hits,
    )

    text = shape.format(pw=PASSWORD)
    starts = [0, *(m.end() for m in re.finditer(r"\r\n?|\n", text))]
    by_libcst = _libcst_hits(text, starts)
    literal_hits = [h for h in by_libcst if h.note != "a comment"]
    if literal_hits:
        assert literals_may_hold_credentials(text), shape
    if not literals_may_hold_credentials(text):
        assert python_hits(text) == sorted(_comment_hits(text, starts), key=lambda h: h.start)
    assert python_hits(text) == (by_libcst if literals_may_hold_credentials(text)
                                 else python_hits(text))


@pytest.mark.skipif(not corpus_repos(), reason=f"corpus absent: {CORPUS}")
def test_python_precheck_agrees_with_libcst_on_the_corpus() -> None:
    """Over every Python file of the corpus that is worth parsing: the same hits with the
    pre-check as with libcst alone."""
    from gha_fix.transforms.secrets.python import _libcst_hits, python_hits, worth_parsing

    checked = 0
    for root in corpus_repos():
        for path in sorted(root.rglob("*.py")):
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if not worth_parsing(text):
                continue
            starts = [0, *(m.end() for m in re.finditer(r"\r\n?|\n", text))]
            assert python_hits(text) == _libcst_hits(text, starts), path
            checked += 1
    assert checked >= 5


# --- the corpus -------------------------------------------------------------------------------
@pytest.mark.skipif(not corpus_repos(), reason=f"corpus absent: {CORPUS}")
def test_corpus_has_no_safe_replacements() -> None:
    safe, name_hits = [], []
    for root in corpus_repos():
        result = process_repo(root, RunOptions(write=False), [SecretsTransform()])
        assert result.errors == []
        for file in result.files:
            for r in file.fixes:
                (safe if r.fix.safety is Safety.SAFE else name_hits).append((root, file, r))
    assert safe == []
    for root, file, r in name_hits:  # never a service container's throwaway password
        tests = service_values(Document.from_file(root / file.path, file.path).data)
        assert not set(r.fix.secrets) & tests, f"{root.name}/{file.path}:{r.line}"
        assert r.status is Status.HELD_BACK
    assert len(name_hits) <= 5, [f"{root.name}/{f.path}:{r.line}" for root, f, r in name_hits]


def test_no_value_in_the_commit(tmp_path: Path) -> None:
    repo, values = leak_repo(tmp_path)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "add", "-A"], check=True, env=env)
    subprocess.run([*git, "commit", "-qm", "init"], check=True, env=env)
    result = CliRunner(env=env).invoke(app, ["apply", "--select", "secrets", str(repo)])
    out = result.stdout + (result.stderr if hasattr(result, "stderr") else "")
    assert [v[:8] for v in values if v in out] == []
    log = subprocess.run([*git, "log", "--all", "--format=%B%n%D"], capture_output=True,
                         text=True, check=True, env=env).stdout
    assert "gh secret set V0" in log, out
    assert [v[:8] for v in values if v in log] == []


def test_cli_secrets_file(tmp_path: Path) -> None:
    """`apply --secrets-file` writes NAME=value (0600) outside the repo and prints no value."""
    from typer.testing import CliRunner

    from gha_fix.codemod.cli import app

    value = FAKES["npm"][0]
    repo = tmp_path / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / ".github/workflows/publish.yml").write_text(
        "on: push\njobs:\n  p:\n    runs-on: x\n    steps:\n      - run: npm publish\n"
        f"        env:\n          NODE_AUTH_TOKEN: {value}\n")
    inside = CliRunner().invoke(app, ["apply", "--no-commit", "--select", "secrets",
                                      "--secrets-file", str(repo / "s.env"), str(repo)])
    assert inside.exit_code == 2 and value not in inside.stdout + inside.stderr
    assert not (repo / "s.env").exists()
    assert value in (repo / ".github/workflows/publish.yml").read_text()  # refused up front
    out = tmp_path / "secrets.env"
    result = CliRunner().invoke(app, ["apply", "--no-commit", "--select", "secrets",
                                      "--secrets-file", str(out), str(repo)])
    assert result.exit_code == 0, result.stderr
    assert value not in result.stdout + result.stderr
    assert out.read_text() == f"NODE_AUTH_TOKEN={value}\n"
    assert out.stat().st_mode & 0o777 == 0o600
