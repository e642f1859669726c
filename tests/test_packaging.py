"""pyproject.toml and environment.yml list the same dependencies."""
import re
import tomllib

import yaml

from sgnlib.paths import REPO_ROOT

CONDA_TO_PIP = {"pytorch": "torch"}


def norm(spec: str):
    spec = spec.strip()
    m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    name, ver = m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")
    return CONDA_TO_PIP.get(name, name), ver


def test_pyproject_and_environment_agree():
    pp = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = dict(norm(s) for s in pp["dependencies"] + pp["optional-dependencies"]["dev"])
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    conda = dict(norm(s) for s in env["dependencies"] if isinstance(s, str) and not s.startswith(("python", "pip")))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda.update(norm(s) for s in pip_section if not s.startswith("-e"))  # PyPI-only packages (levy-stable)
    assert conda == pip_deps
    assert "levy-stable" in pip_deps and "filelock" in pip_deps


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text()
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make book" in readme
    assert "make test" in ci.splitlines()[-1]
