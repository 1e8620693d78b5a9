"""A step that stores the GITHUB_TOKEN for a registry of GitHub Packages (a login), and the
commands that then publish there (issue #12 §2): `transforms/data/registries.yml`."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_analysis import job_scopes, workflow

GITHUB_NUGET = "https://nuget.pkg.github.com/o/index.json"


@pytest.mark.parametrize(("steps", "expected"), [
    # setup-dotnet writes the token of its NUGET_AUTH_TOKEN into a nuget.config for the source
    (f"      - uses: actions/setup-dotnet@v4\n        with:\n          source-url: {GITHUB_NUGET}\n"
     "        env:\n          NUGET_AUTH_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n"
     "      - run: dotnet pack -c Release\n"
     "      - run: dotnet nuget push bin/Release/*.nupkg\n", {"packages": "write"}),
    # the same set-up with another token: the push does not use the GITHUB_TOKEN
    (f"      - uses: actions/setup-dotnet@v4\n        with:\n          source-url: {GITHUB_NUGET}\n"
     "        env:\n          NUGET_AUTH_TOKEN: ${{ secrets.PACKAGES_PAT }}\n"
     "      - run: dotnet nuget push bin/Release/*.nupkg\n", {}),
    # a nuget.org source: nothing of GitHub's is stored
    ("      - uses: actions/setup-dotnet@v4\n        with:\n"
     "          source-url: https://api.nuget.org/v3/index.json\n"
     "        env:\n          NUGET_AUTH_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n"
     "      - run: dotnet nuget push bin/Release/*.nupkg\n", {}),
    # dotnet nuget add source --password stores it too
    (f"      - run: dotnet nuget add source {GITHUB_NUGET} -n gh -u x"
     " --password ${{ github.token }} --store-password-in-clear-text\n"
     "      - run: dotnet nuget push out/*.nupkg -s gh\n", {"packages": "write"}),
    # npm: setup-node writes an .npmrc that reads NODE_AUTH_TOKEN when npm publish runs
    ("      - uses: actions/setup-node@v4\n        with:\n"
     "          registry-url: https://npm.pkg.github.com\n"
     "      - run: npm publish\n"
     "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n",
     {"packages": "write"}),
    ("      - uses: actions/setup-node@v4\n        with:\n"
     "          registry-url: https://registry.npmjs.org\n"
     "      - run: npm publish\n"
     "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n", {}),
    # npm config set stores the token for later steps; yarn npm publish then pushes
    ("      - run: npm config set //npm.pkg.github.com/:_authToken ${{ github.token }}\n"
     "      - run: yarn npm publish\n", {"packages": "write"}),
    ("      - run: echo \"//npm.pkg.github.com/:_authToken=${{ secrets.GITHUB_TOKEN }}\""
     " >> ~/.npmrc\n"
     "      - run: pnpm publish --no-git-checks\n", {"packages": "write"}),
    # Maven: setup-java's settings.xml reads the token from the env when mvn deploy runs
    ("      - uses: actions/setup-java@v4\n        with:\n"
     "          distribution: temurin\n          java-version: 21\n"
     "      - run: mvn --batch-mode deploy\n"
     "        env:\n          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n",
     {"packages": "write"}),
    # Gradle: the build script reads the token from the env
    ("      - run: ./gradlew publish\n"
     "        env:\n          GITHUB_TOKEN: ${{ github.token }}\n", {"packages": "write"}),
    # the token in the same step as the login
    ("      - run: |\n"
     "          echo ${{ github.token }} | docker login ghcr.io -u x --password-stdin\n"
     "          docker push ghcr.io/o/r:1\n", {"packages": "write"}),
])
def test_publishing_after_a_login_with_the_token(tmp_path: Path, steps: str,
                                                 expected: dict) -> None:
    assert job_scopes(tmp_path, workflow(steps)) == {"j": expected}


@pytest.mark.parametrize("command", [
    "helm push chart-1.0.0.tgz oci://ghcr.io/o/charts",
    "oras push ghcr.io/o/artifact:1 dist/app.tar.gz",
    "crane copy docker.io/o/app:1 ghcr.io/o/app:1",
    "skopeo copy docker-archive:app.tar docker://ghcr.io/o/app:1",
    "cosign sign --yes ghcr.io/o/app@sha256:0123",
])
def test_other_clients_writing_to_ghcr(tmp_path: Path, command: str) -> None:
    # a run: login needs no scope itself: packages: write comes from the command only
    steps = ("      - run: echo \"$T\" | docker login ghcr.io -u x --password-stdin\n"
             "        env:\n          T: ${{ github.token }}\n"
             f"      - run: {command}\n")
    needs = job_scopes(tmp_path, workflow(steps))["j"]
    assert needs is not None and needs.get("packages") == "write"
    # without the login, nothing of the GITHUB_TOKEN reaches the registry
    bare = job_scopes(tmp_path, workflow(f"      - run: {command}\n"))["j"]
    assert bare is not None and "packages" not in bare


@pytest.mark.parametrize("login", ["helm registry login", "oras login", "crane auth login"])
def test_other_clients_log_in_too(tmp_path: Path, login: str) -> None:
    steps = (f"      - run: echo \"$T\" | {login} ghcr.io -u x --password-stdin\n"
             "        env:\n          T: ${{ github.token }}\n"
             "      - run: helm push chart.tgz oci://ghcr.io/o/charts\n")
    assert job_scopes(tmp_path, workflow(steps)) == {"j": {"packages": "write"}}


def test_a_login_in_another_job_does_not_count(tmp_path: Path) -> None:
    text = ("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
            "      - run: npm config set //npm.pkg.github.com/:_authToken ${{ github.token }}\n"
            "  b:\n    runs-on: x\n    steps:\n      - run: npm publish\n")
    assert job_scopes(tmp_path, text) == {"a": {}, "b": {}}


def test_a_program_after_a_login_keeps_packages(tmp_path: Path) -> None:
    """`make release` after setup-dotnet stored the token may push: packages is lent."""
    from gha_fix.codemod.document import Document
    from gha_fix.codemod.repo import RepoContext
    from gha_fix.transforms.analysis import analyse_workflow

    steps = ("      - uses: actions/setup-dotnet@v4\n        with:\n"
             f"          source-url: {GITHUB_NUGET}\n"
             "        env:\n          NUGET_AUTH_TOKEN: ${{ github.token }}\n"
             "      - run: make release\n")
    needs = analyse_workflow(Document.from_text("w.yml", workflow(steps)), RepoContext(tmp_path))
    assert needs["j"].lent == {"packages"}


def test_every_registry_cites_github_packages_docs() -> None:
    from gha_fix.transforms.knowledge_files import load

    registries = load("registries.yml")
    assert {"ghcr", "npm", "nuget", "maven", "gradle"} <= set(registries)
    for name, registry in registries.items():
        assert registry["source"].startswith("https://docs.github.com/en/packages/"), name
        assert registry["publish"], name
