"""The wheel installs one import package, `gha_fix`, that works beside a user's own code.

Before, `pip install gha-fix` installed two generic top-level packages, `codemod` and
`transforms`; in a folder holding a `transforms/` package, `python -m codemod.cli transforms`
failed with `ImportError: cannot import name 'REGISTRY'`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # built from a copy of what git tracks: a stale build/ folder must not leak old modules in
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--", "pyproject.toml",
                              "README.md", "gha_fix", "codemod", "transforms"],
                             check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "--disable-pip-version-check", "-w", str(out), str(source)],
                   check=True, capture_output=True)
    return next(out.glob("gha_fix-*.whl"))


def test_the_wheel_holds_only_gha_fix(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"gha_fix"}
    # every module and data file of the checkout ships, with the schemas
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "codemod", "transforms"],
                             check=True, capture_output=True, text=True).stdout.split()
    assert {f"gha_fix/{name}" for name in tracked} <= set(names)
    assert "gha_fix/transforms/data/schema/actions.schema.json" in names


def test_installed_wheel_runs_beside_packages_named_like_its_folders(
        wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # the dependencies come from this environment's site-packages (a plain path: its .pth files,
    # among them the editable install of gha-fix, are not processed)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], check=True, capture_output=True, text=True)
    Path(site.stdout.strip(), "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--disable-pip-version-check", str(wheel)],
                   check=True, capture_output=True)
    # a user's project with its own `transforms` and `codemod` packages
    project = tmp_path / "project"
    for name in ("transforms", "codemod"):
        (project / name).mkdir(parents=True)
        (project / name / "__init__.py").write_text("raise ImportError('the user\\'s own')\n")
    shutil.copytree(ROOT / "examples" / "demo", project / "demo")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=project, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "GHA_FIX_OFFLINE": "1",
                                   "HOME": str(tmp_path)})

    found = run(str(python), "-c", "import gha_fix.codemod.cli as m; print(m.__file__)")
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith(str(venv)), found.stdout  # the wheel's, not the checkout's
    for command in ([str(venv / "bin" / "gha-fix"), "--help"],
                    [str(python), "-m", "gha_fix", "--help"]):
        done = run(*command)
        assert done.returncode == 0, done.stderr
        assert "check" in done.stdout and "apply" in done.stdout
    listed = run(str(python), "-m", "gha_fix", "transforms")
    assert listed.returncode == 0, listed.stderr
    assert {"permissions", "secrets", "fork-guard"} <= set(listed.stdout.split())
    checked = run(str(venv / "bin" / "gha-fix"), "check", "demo")
    assert checked.returncode == 1, checked.stderr  # fixes are due in the demo
    assert "[permissions]" in checked.stdout
