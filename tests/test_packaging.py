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
    commands = [l for l in ci.splitlines() if l.strip() and not l.startswith(("#", "set ", "cd "))]
    assert commands[0] == "make test"
    assert commands[1:] == ["ATEN_CPU_CAPABILITY=default make nbval"] and "ATEN_CPU_CAPABILITY=default" in readme


def _imports_of_sgnlib():
    """{module: set of sgnlib modules it imports} from the source (relative and absolute imports)."""
    import ast
    pkg = REPO_ROOT / "sgnlib"
    graph = {}
    for path in pkg.rglob("*.py"):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        mod = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(max(node.level - 1, 0)):
                    base = base.rsplit(".", 1)[0]
                target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
                if target and target.startswith("sgnlib"):
                    deps.add(target)
                    deps.update(f"{target}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("sgnlib"))
        graph[mod] = deps
    return {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}


def test_imports_flow_one_way():
    """No sgnlib module imports one that imports it back, directly or not (package __init__s aside)."""
    graph = _imports_of_sgnlib()

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for d in graph[todo.pop()]:
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen
    cycles = [(m, d) for m in graph for d in graph[m] if m in reach(d) and not m.startswith(d + ".")
              and not d.startswith(m + ".")]
    assert not cycles, cycles


def test_no_module_over_300_lines():
    long = {str(p.relative_to(REPO_ROOT)): n for p in (REPO_ROOT / "sgnlib").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 300}
    assert not long, long


def test_no_line_over_100_characters():
    """Every sgnlib module, at any depth: no line over 100 characters."""
    pkg = REPO_ROOT / "sgnlib"
    paths = sorted(pkg.rglob("*.py"))
    long = [f"{p.relative_to(REPO_ROOT)}:{i}" for p in paths
            for i, line in enumerate(p.read_text().splitlines(), 1) if len(line) > 100]
    assert not long, long


def test_figure_and_chapter_modules_import_no_compute_stage():
    """Drawing a figure or a chapter's tables imports neither torch nor the training (run in a
    fresh interpreter, so no other test's imports count)."""
    import subprocess
    import sys
    modules = ["figures", "moment_figures", "tail_figures", "state_search_figure",
               "chapters.alexnet", "chapters.resnet", "chapters.training", "chapters.moments", "chapters.tails",
               "chapters.protocol", "chapters.methods", "chapters.html"]
    code = ("import sys\n" + "".join(f"import sgnlib.{m}\n" for m in modules)
            + "print(sorted(m for m in ('torch', 'sgnlib.train', 'sgnlib.stages') "
              "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO_ROOT, check=True).stdout.strip()
    assert out == "[]", out
