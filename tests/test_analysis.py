"""The shared GITHUB_TOKEN needs analysis: which token a command uses decides what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gha_fix.codemod.document import Document
from gha_fix.codemod.repo import RepoContext
from gha_fix.transforms.analysis import analyse_workflow


def job_scopes(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> dict:
    for rel, content in (files or {}).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    doc = Document.from_text("w.yml", text)
    result = analyse_workflow(doc, RepoContext(tmp_path))
    return {job: (needs.scopes() if needs.understood else None) for job, needs in result.items()}


def workflow(steps: str, env: str = "") -> str:
    return f"on: push\n{env}jobs:\n  j:\n    runs-on: x\n    steps:\n{steps}"


@pytest.mark.parametrize(("token", "expected"), [
    ("${{ github.token }}", {"contents": "write"}),
    ("${{ secrets.GITHUB_TOKEN }}", {"contents": "write"}),
    ("${{ secrets.github_token }}", {"contents": "write"}),
    ("${{ secrets.RELEASE_PAT }}", {}),
    ("${{ steps.app.outputs.token }}", {}),
])
def test_gh_counts_only_with_the_github_token(tmp_path: Path, token: str, expected: dict) -> None:
    steps = f"      - run: gh release create v1\n        env:\n          GH_TOKEN: {token}\n"
    assert job_scopes(tmp_path, workflow(steps)) == {"j": expected}


def test_token_through_workflow_env_and_env_context(tmp_path: Path) -> None:
    env = "env:\n  TOKEN: ${{ github.token }}\n"
    steps = ("      - run: gh issue create -t x -b y\n"
             "        env:\n          GH_TOKEN: ${{ env.TOKEN }}\n")
    assert job_scopes(tmp_path, workflow(steps, env)) == {"j": {"issues": "write"}}


def test_self_referencing_env_does_not_loop(tmp_path: Path) -> None:
    env = "env:\n  X: ${{ env.X }}\n"
    steps = "      - run: echo hi\n"
    assert job_scopes(tmp_path, workflow(steps, env)) == {"j": {}}


def test_git_push_needs_persisted_checkout_credentials(tmp_path: Path) -> None:
    kept = "      - uses: actions/checkout@v4\n      - run: git push origin HEAD\n"
    dropped = ("      - uses: actions/checkout@v4\n"
               "        with:\n          persist-credentials: false\n"
               "      - run: git push origin HEAD\n")
    assert job_scopes(tmp_path, workflow(kept))["j"]["contents"] == "write"
    assert job_scopes(tmp_path, workflow(dropped))["j"].get("contents") == "read"


def test_token_given_to_an_unreadable_command_is_unknown(tmp_path: Path) -> None:
    steps = ("      - run: ./scripts/release.sh\n"
             "        env:\n          GITHUB_TOKEN: ${{ github.token }}\n")
    assert job_scopes(tmp_path, workflow(steps)) == {"j": None}


def test_unknown_action_and_run_time_action(tmp_path: Path) -> None:
    steps = "      - uses: nobody/knows-this@v1\n"
    assert job_scopes(tmp_path, workflow(steps)) == {"j": None}
    steps = "      - uses: ${{ matrix.action }}\n"
    assert job_scopes(tmp_path, workflow(steps)) == {"j": None}


def test_node_local_action_with_a_token_input_is_unknown(tmp_path: Path) -> None:
    action = ("name: a\ninputs:\n  token:\n    default: ${{ github.token }}\n"
              "runs:\n  using: node20\n  main: index.js\n")
    quiet = "name: b\ninputs:\n  path:\n    default: .\nruns:\n  using: node20\n  main: index.js\n"
    files = {".github/actions/a/action.yml": action, ".github/actions/b/action.yml": quiet}
    steps = "      - uses: ./.github/actions/a\n      - uses: ./.github/actions/b\n"
    assert job_scopes(tmp_path, workflow(steps), files) == {"j": None}
    steps = "      - uses: ./.github/actions/b\n"
    assert job_scopes(tmp_path, workflow(steps), files) == {"j": {}}


def test_composite_recursion_stops(tmp_path: Path) -> None:
    loop = ("name: loop\nruns:\n  using: composite\n  steps:\n"
            "    - uses: ./.github/actions/loop\n")
    files = {".github/actions/loop/action.yml": loop}
    steps = "      - uses: ./.github/actions/loop\n"
    assert job_scopes(tmp_path, workflow(steps), files) == {"j": None}


def test_docker_push_to_ghcr_after_login_with_the_token(tmp_path: Path) -> None:
    steps = ("      - run: echo \"${{ github.token }}\" | docker login ghcr.io -u x"
             " --password-stdin\n"
             "      - run: docker push ghcr.io/o/r:1\n")
    assert job_scopes(tmp_path, workflow(steps)) == {"j": {"packages": "write"}}


def test_shell_scripts_of_the_repo_are_read(tmp_path: Path) -> None:
    files = {
        "scripts/release.sh": "#!/usr/bin/env bash\nset -e\ngh release create \"$1\"\n",
        "scripts/outer.sh": "./scripts/release.sh v1\n",
        "scripts/loop.sh": "bash scripts/loop.sh\n",
        "tools/run.py": "#!/usr/bin/env python3\nimport os\n",
    }
    env = "        env:\n          GH_TOKEN: ${{ github.token }}\n"
    for run, expected in [
        ("./scripts/release.sh v1", {"contents": "write"}),
        ("bash scripts/outer.sh", {"contents": "write"}),  # a script that runs a script
        ("bash scripts/loop.sh", None),  # runs itself: unknown, not a hang
        ("./tools/run.py", None),  # not a shell script: not read
        ("./scripts/missing.sh", None),
    ]:
        steps = f"      - run: {run}\n{env}"
        assert job_scopes(tmp_path, workflow(steps), files) == {"j": expected}, run


TOKEN_ENV = "env:\n  GITHUB_TOKEN: ${{ github.token }}\n"


@pytest.mark.parametrize(("script", "expected"), [
    # a wrapper runs the command after it: that one decides
    ("env FOO=1 make release", None),
    ("sudo -E ./publish", None),
    ("timeout 60 nice -n 10 cat notes.md", {}),
    ("xargs -n1 gh release upload v1 < files.txt", {"contents": "write"}),
    # eval runs text that is not in the script
    ('eval "$(./bin/setup)"', None),
    # find -exec runs a command too
    (r"find . -name '*.tmp' -exec rm {} \;", {}),
    (r"find dist -type f -exec ./upload {} \;", None),
    # a heredoc that is data holds no commands; one fed to a shell does
    ("cat <<EOF > notes.md\nArrow 1.0 released\nmake sure to read\nEOF\necho done", {}),
    ("cat <<'EOF' | bash\nmake release\nEOF", None),
    ("bash -s <<EOF\nmake release\nEOF", None),
    ("grep x <<< \"$LIST\"", {}),
    # a case branch's pattern and a test continued on the next line are not commands
    ('case "$EVENT" in\n  pull_request|push)\n    echo pr\n    ;;\nesac', {}),
    ('if [[ "$A" == x ||\n      "$B" == y ]]; then\n  echo both\nfi', {}),
    ("sudo apt-get install -y jq && shasum -a 256 f", {}),
    # a command gha-fix understands does not vouch for the one beside it
    ("make dist\ngh release upload v1 dist/*", None),
    ("gh release create v1 && ./notify", None),
    ("npx semantic-release", {"contents": "write", "issues": "write", "pull-requests": "write"}),
    ("make dist && goreleaser release --clean", None),  # make: unknown, goreleaser understood
    ("cd dist && goreleaser release --clean", {"contents": "write"}),
    ("gh release download v1 --repo goreleaser/goreleaser", {"contents": "read"}),
    ('git fetch origin "+refs/heads/main:refs/remotes/origin/main"', {}),  # no checkout token
])
def test_commands_that_run_other_commands(tmp_path: Path, script: str, expected: object) -> None:
    """With the token in the environment, a command gha-fix cannot see into leaves the job
    unknown (None); wrappers, find -exec and heredocs are seen through."""
    block = "".join(f"          {line}\n" for line in script.splitlines())
    steps = f"      - run: |\n{block}"
    assert job_scopes(tmp_path, workflow(steps, TOKEN_ENV)) == {"j": expected}


def test_sourced_scripts_of_the_repo_are_read(tmp_path: Path) -> None:
    """`source x.sh` runs x.sh in the step's shell: its commands count (they used to be
    skipped as a builtin); a sourced file that is not the repo's (an activate script) only sets
    variables."""
    files = {"scripts/release.sh": "#!/bin/bash\ngh release create \"$1\"\n"}
    steps = ("      - run: |\n          . venv/bin/activate\n"
             "          source scripts/release.sh v1\n")
    assert job_scopes(tmp_path, workflow(steps, TOKEN_ENV), files) == {
        "j": {"contents": "write"}}


@pytest.mark.parametrize(("line", "commands"), [
    ("echo \"a | b\" | jq '.x | .y' > out.json 2>&1", [["echo", "a | b"], ["jq", ".x | .y"]]),
    ('VERSIONS="stable default linked"', [["VERSIONS=stable default linked"]]),
    ('X=$(git describe --tags) && make "$X"', [["git", "describe", "--tags"], ["X=$(…)"],
                                               ["make", "$X"]]),
    ("DB=${{fromJson(steps.a.outputs.db).cpp}}", [["DB=${{fromJson(steps.a.outputs.db).cpp}}"]]),
    ("arr=(a b c); ls", [["arr=(a b c)"], ["ls"]]),
    ('curl -H "Authorization: token $(gh auth token)" x',
     [["gh", "auth", "token"], ["curl", "-H", "Authorization: token $(gh auth token)", "x"]]),
    ("echo `date` # a comment | rm -rf /", [["date"], ["echo", "$(…)"]]),
    ("cmd 2>/dev/null >&2 arg", [["cmd", "arg"]]),
    ("a && (b || c) &", [["a"], ["b"], ["c"]]),
    ("echo ${X:-a b} $((1 + 2)) a#b", [["echo", "${X:-a b}", "$((1 + 2))", "a#b"]]),
    ("diff <(sort a) <(sort b)", [["diff"], ["sort", "a"], ["sort", "b"]]),
    ("echo \\$HOME \\\"x", [["echo", "$HOME", '"x']]),
    # quotes inside a command substitution inside quotes
    ('R="$(jq -r \'.x\' f | tr "a" " " | xargs)"',
     [["jq", "-r", ".x", "f"], ["tr", "a", " "], ["xargs"],
      ['R=$(jq -r \'.x\' f | tr "a" " " | xargs)']]),
    ('x+=" swift"; args+=(--branch main)', [["x+= swift"], ["args+=(--branch main)"]]),
    # arithmetic holding commands; operators inside a [[ test ]]
    ('AGE=$(( ($(date +%s) - $(date -d "$X" +%s)) / 86400 ))',
     [["date", "+%s"], ["date", "-d", "$X", "+%s"],
      ['AGE=$(( ($(date +%s) - $(date -d "$X" +%s)) / 86400 ))']]),
    ('if [[ "$A" == x || "$B" == y ]]; then make; fi',
     [["if", "[[", "$A", "==", "x", "$B", "==", "y", "]]"], ["then", "make"], ["fi"]]),
])
def test_split_commands(line: str, commands: list[list[str]]) -> None:
    """Quotes, substitutions, expansions, redirections and comments, as the shell reads them."""
    from gha_fix.transforms.lib.shell import split_commands

    assert split_commands(line) == (commands, "")
    assert split_commands("args=(")[1] == "array"  # goes on over the next lines
    assert split_commands("jq -r '")[1] == "quote"
    assert split_commands('x="$(')[1] == "quote"


def test_multi_line_array_is_data(tmp_path: Path) -> None:
    steps = ("      - run: |\n          args=(\n            --project pnpm\n"
             "            --file \"$F\"\n          )\n          echo \"${args[@]}\"\n")
    assert job_scopes(tmp_path, workflow(steps, TOKEN_ENV)) == {"j": {}}


@pytest.mark.parametrize(("script", "expected"), [
    # a jq program over several lines in single quotes: its lines are not commands
    ("n=\"$(\n  jq -r '\n    def dco:\n      select(.x)\n  ' f.json\n)\"\necho \"$n\"", {}),
    ("python3 -c \"\nimport os\nprint(os.environ)\n\"", None),  # python is opaque itself
    # a quote that never closes was misread: the lines are still read, one by one
    ("echo it's\nmake release", None),
    ("make it's", None),  # the command before the stray quote still counts
])
def test_quotes_over_several_lines(tmp_path: Path, script: str, expected: object) -> None:
    block = "".join(f"          {line}\n" for line in script.splitlines())
    steps = f"      - run: |\n{block}"
    assert job_scopes(tmp_path, workflow(steps, TOKEN_ENV)) == {"j": expected}


@pytest.mark.parametrize(("with_", "id_token"), [
    ("", True),  # no github_token: OIDC, exchanged for the Claude app's token
    ("        with: {github_token: '${{ github.token }}'}\n", False),
    ("        with: {github_token: '${{ secrets.GITHUB_TOKEN }}'}\n", False),
    ("        with: {github_token: '${{ steps.app.outputs.token }}'}\n", True),  # maybe empty
])
def test_unset_input_and_the_github_token(tmp_path: Path, with_: str, id_token: bool) -> None:
    """`${{ github.token }}` is never empty: an `unset:` condition on that input is false."""
    steps = f"      - uses: anthropics/claude-code-action@v1\n{with_}"
    scopes = job_scopes(tmp_path, workflow(steps))["j"]
    assert scopes is not None and ("id-token" in scopes) is id_token


@pytest.mark.parametrize(("step", "id_token"), [
    ("aws-actions/configure-aws-credentials@v4\n        with:\n"
     "          aws-access-key-id: ${{ secrets.KEY }}\n"
     "          aws-secret-access-key: ${{ secrets.SECRET }}\n", False),
    ("aws-actions/configure-aws-credentials@v4\n        with:\n"
     "          role-to-assume: ${{ vars.ROLE }}\n", True),
    ("azure/login@v2\n        with:\n          creds: ${{ secrets.AZURE_CREDENTIALS }}\n", False),
    ("azure/login@v2\n        with:\n          client-id: ${{ secrets.AZURE_CLIENT_ID }}\n"
     "          tenant-id: ${{ secrets.TENANT }}\n", True),
])
def test_cloud_logins_ask_for_oidc_only_when_they_use_it(tmp_path: Path, step: str,
                                                        id_token: bool) -> None:
    """Access keys or a service principal secret from a secret need no OIDC token."""
    scopes = job_scopes(tmp_path, workflow(f"      - uses: {step}"))["j"]
    assert scopes is not None and ("id-token" in scopes) is id_token


def test_token_through_an_input_in_a_composite_script(tmp_path: Path) -> None:
    """`${{ inputs.github-token }}` written into a composite action's script is the token
    when the caller passes it (apache/arrow's vcpkg NuGet login): the step is not inert."""
    action = ("inputs:\n  github-token: {required: true}\nruns:\n  using: composite\n"
              "  steps:\n    - shell: bash\n      run: |\n"
              "        nuget sources add -password \"${{ inputs.github-token }}\"\n")
    steps = ("      - uses: ./.github/actions/build\n"
             "        with:\n          github-token: ${{ secrets.GITHUB_TOKEN }}\n")
    files = {".github/actions/build/action.yml": action}
    assert job_scopes(tmp_path, workflow(steps), files) == {"j": None}
    plain = steps.replace("${{ secrets.GITHUB_TOKEN }}", "${{ secrets.NUGET_PAT }}")
    assert job_scopes(tmp_path, workflow(plain), files) == {"j": {}}


def test_ko_and_retry_commands(tmp_path: Path) -> None:
    """setup-ko logs ko in to ghcr.io with the token: `ko build` pushes there; a retry
    action's `command` is a script like run:, and what runs after a login may use it."""
    steps = ("      - uses: ko-build/setup-ko@v0.10\n"
             "      - uses: nick-fields/retry@v3\n"
             "        with:\n          command: ko build ./cmd/app\n")
    assert job_scopes(tmp_path, workflow(steps)) == {"j": {"packages": "write"}}
    doc = Document.from_text("w.yml", workflow(steps.replace("ko build ./cmd/app", "make")))
    needs = analyse_workflow(doc, RepoContext(tmp_path))["j"]
    assert needs.understood and needs.lent == {"packages"}


def test_self_repository_reference(tmp_path: Path) -> None:
    """`uses: $/path` is an action of this repository at the running commit (no checkout)."""
    action = ("runs:\n  using: composite\n  steps:\n    - shell: bash\n"
              "      run: gh release create v1\n      env: {GH_TOKEN: '${{ github.token }}'}\n")
    files = {".github/actions/release/action.yml": action}
    steps = "      - uses: $/.github/actions/release\n"
    assert job_scopes(tmp_path, workflow(steps), files) == {"j": {"contents": "write"}}


def test_shell_reader_commands_of_a_script() -> None:
    """The shared shell reader's whole-script entry point: heredocs that are data, `case`
    patterns and continuations are not commands."""
    from gha_fix.transforms.lib.shell import commands

    script = ("cat <<EOF > notes.md\ngh release create v1\nEOF\n"
              "case \"$E\" in\n  push) make \\\n    release ;;\nesac\n# gh pr merge\n")
    assert commands(script) == [["cat"], ["case", "$E", "in"], ["make", "release"], ["esac"]]


@pytest.mark.parametrize(("value", "why", "when_input"), [
    ("${{ inputs.publish }}", "ossf/scorecard-action, when its publish_results input is true",
     "publish_results"),
    ("true", "ossf/scorecard-action", None),
])
def test_conditional_need_carries_its_input(tmp_path: Path, value: str, why: str,
                                            when_input: str | None) -> None:
    """A need that depends on an input decided at run time says which (typed), and why in
    English; one whose input is known holds without condition."""
    text = workflow("      - uses: ossf/scorecard-action@v2\n"
                    f"        with: {{publish_results: '{value}'}}\n")
    needs = analyse_workflow(Document.from_text("w.yml", text), RepoContext(tmp_path))["j"]
    oidc = next(n for n in needs.all_needs() if n.scope == "id-token")
    assert (oidc.why, oidc.when_input) == (why, when_input)
    assert needs.reason_for("id-token", "write") == why


def test_why_in_english_for_each_kind_of_condition() -> None:
    from gha_fix.transforms.analysis import InputCondition, Need

    def why(condition: dict) -> str:
        return Need("id-token", "write", "o/a", when=InputCondition.of(condition)).why

    assert why({"input": "token", "unset": True}) == "o/a, when its token input is not set"
    assert why({"input": "client-id", "set": True}) == "o/a, when its client-id input is set"
    assert why({"input": "registry", "equals": "ghcr.io"}) == (
        "o/a, when its registry input is ghcr.io")
    inner = Need("id-token", "write", "o/a", when=InputCondition.of({"input": "t", "set": True}))
    outer = inner.within("./.github/actions/x")
    assert outer.why == "./.github/actions/x: o/a, when its t input is set"
    assert outer.when_input == "t"


# --- programs after a checkout that kept its credentials (programs.yml) -----------------------
AFTER_CHECKOUT = "      - uses: actions/checkout@v4\n"


@pytest.mark.parametrize(("script", "expected"), [
    # known not to use the persisted credentials: builds, tests, linters, installs
    ("pip install -e .[test]\npython -m pytest -q", {"contents": "read"}),
    ("poetry install\npoetry run pytest -x", {"contents": "read"}),  # a runner: pytest counts
    ("npx --yes eslint@9 .", {"contents": "read"}),
    ("./node_modules/.bin/tsc --noEmit", {"contents": "read"}),
    ("clang-18 -O2 -c x.c && gcc-12 --version", {"contents": "read"}),
    ("node --version && python3 -V", {"contents": "read"}),
    ("./gradlew build --no-daemon", {"contents": "read"}),
    ("cargo test --workspace", {"contents": "read"}),
    # known to push with them
    ("mkdocs gh-deploy --force", {"contents": "write"}),
    ("ghp-import -n -p -f site", {"contents": "write"}),
    ("mike deploy --push dev", {"contents": "write"}),
    ("npx lerna publish from-git --yes", {"contents": "write"}),
    ("git tag v1 && git push --tags", {"contents": "write"}),
    # anything else may push with them: unknown
    ("python scripts/release.py", None),
    ("node tools/publish.js", None),
    ("go run ./cmd/release", None),
    ("./gradlew publishGitHubPages", None),
    ("poetry run python deploy.py", None),
    ("$DEPLOY_TOOL --all", None),
    ("docker run --rm -v $PWD:/src image", None),
])
def test_programs_after_a_checkout_that_kept_its_credentials(
        tmp_path: Path, script: str, expected: object) -> None:
    block = "".join(f"          {line}\n" for line in script.splitlines())
    steps = f"{AFTER_CHECKOUT}      - run: |\n{block}"
    assert job_scopes(tmp_path, workflow(steps)) == {"j": expected}, script


def test_the_reason_names_the_program(tmp_path: Path) -> None:
    steps = f"{AFTER_CHECKOUT}      - run: python tools/bump.py --push\n"
    needs = analyse_workflow(Document.from_text("w.yml", workflow(steps)),
                             RepoContext(tmp_path))["j"]
    assert needs.reasons() == ["python tools/bump.py runs after actions/checkout kept the "
                               "GITHUB_TOKEN in .git/config: gha-fix does not know whether it "
                               "pushes with it"]


def test_before_a_checkout_or_without_credentials_programs_stay_as_they_were(
        tmp_path: Path) -> None:
    before = "      - run: python scripts/setup.py\n" + AFTER_CHECKOUT
    assert job_scopes(tmp_path, workflow(before)) == {"j": {"contents": "read"}}
    dropped = ("      - uses: actions/checkout@v4\n        with:\n"
               "          persist-credentials: false\n      - run: python scripts/release.py\n")
    assert job_scopes(tmp_path, workflow(dropped)) == {"j": {"contents": "read"}}


def test_shell_functions_and_powershell_expressions(tmp_path: Path) -> None:
    script = "retry() {\n  for i in 1 2 3; do \"$@\" && return; done\n}\nretry cargo build\n"
    block = "".join(f"          {line}\n" for line in script.splitlines())
    assert job_scopes(tmp_path, workflow(f"{AFTER_CHECKOUT}      - run: |\n{block}")) == {
        "j": {"contents": "read"}}
    pwsh = ("      - shell: pwsh\n        run: |\n          $v = Get-Content VERSION\n"
            "          Write-Host \"version $v\"\n          dotnet build -c Release\n")
    assert job_scopes(tmp_path, workflow(AFTER_CHECKOUT + pwsh)) == {"j": {"contents": "read"}}
    bash = pwsh.replace("shell: pwsh", "shell: bash")  # in bash `$v = ...` runs $v
    assert job_scopes(tmp_path, workflow(AFTER_CHECKOUT + bash)) == {"j": None}


def test_missing_scripts_and_generated_configure(tmp_path: Path) -> None:
    steps = f"{AFTER_CHECKOUT}      - run: ./scripts/publish.sh v1\n"
    assert job_scopes(tmp_path, workflow(steps)) == {"j": None}
    steps = f"{AFTER_CHECKOUT}      - run: autoreconf -fi && ./configure && make\n"
    files = {"configure.ac": "AC_INIT([x], [1])\n", "Makefile.am": "bin_PROGRAMS = x\n"}
    assert job_scopes(tmp_path, workflow(steps), files) == {"j": {"contents": "read"}}


def test_git_subcommands_and_functions_of_other_steps(tmp_path: Path) -> None:
    for script, expected in [
        ("git subtree push --prefix dist origin gh-pages", {"contents": "write"}),
        ("git -C site status --short", {"contents": "read"}),
        ("git publish-docs", None),  # an alias or a git-* program: not known
    ]:
        steps = f"{AFTER_CHECKOUT}      - run: {script}\n"
        assert job_scopes(tmp_path, workflow(steps)) == {"j": expected}, script
    # `deploy` is a function of the first step's shell only: in the second it is a program
    steps = (f"{AFTER_CHECKOUT}      - run: |\n          deploy() {{ echo no; }}\n"
             "      - run: deploy\n")
    assert job_scopes(tmp_path, workflow(steps)) == {"j": None}
    pwsh = f"{AFTER_CHECKOUT}      - shell: pwsh\n        run: '& $tool push'\n"
    assert job_scopes(tmp_path, workflow(pwsh)) == {"j": None}
