"""House rules: domain packages never import Airflow; the lazy public API resolves every name."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_robust

DOMAIN_PACKAGES = (
    "batch",
    "data",
    "deployment",
    "drift",
    "promotion",
    "registry",
    "tracking",
    "training",
    "validation",
    "robustness",
    "trust",
    "spark",
)
PURE_MODULES = ("airflow_robust.exceptions", "airflow_robust.params", "airflow_robust.requests")
#: the Airflow edge: only operators, sensors, triggers, hooks, plugins and the user-task helpers import Airflow
EDGE = ("airflow", "airflow_robust.operators", "airflow_robust.hooks", "airflow_robust.sensors",
        "airflow_robust.triggers", "airflow_robust.plugins", "airflow_robust.links", "airflow_robust.stage",
        "airflow_robust.celery")  # fmt: skip
EDGE_PACKAGES = tuple(f"{e}." for e in EDGE)
STAGES = {
    "airflow_robust.validation.stage": "validate",
    "airflow_robust.training.stage": "train_model",
    "airflow_robust.training.register": "register",
    "airflow_robust.robustness.stage": "evaluate_robustness",
    "airflow_robust.promotion.gate": "promote",
    "airflow_robust.deployment.stage": "deploy",
    "airflow_robust.batch.stage": "batch_predict",
    "airflow_robust.drift.stage": "monitor_drift",
}


def domain_modules() -> list[str]:
    names = list(PURE_MODULES)
    for package in DOMAIN_PACKAGES:
        try:
            module = __import__(f"airflow_robust.{package}", fromlist=["_"])
        except ModuleNotFoundError:
            continue
        names.append(module.__name__)
        names.extend(info.name for info in pkgutil.walk_packages(module.__path__, f"{module.__name__}."))
    return names


def test_domain_modules_do_not_import_airflow() -> None:
    modules = domain_modules()
    assert len(modules) >= 10
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=180)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout[-2000:]


def test_domain_sources_never_import_the_airflow_edge_not_even_inside_functions() -> None:
    """Importing a module runs its top level only: this reads every import statement of every domain module
    (inside functions and ``TYPE_CHECKING`` blocks too), so a stage cannot reach Airflow lazily either."""
    root = Path(airflow_robust.__file__).parent
    offenders = []
    checked = 0
    for name in domain_modules():
        relative = name.removeprefix("airflow_robust.").replace(".", "/")
        path = root / f"{relative}.py" if (root / f"{relative}.py").exists() else root / relative / "__init__.py"
        checked += 1
        for node in ast.walk(ast.parse(path.read_text())):
            targets = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module]
            offenders += [f"{name}:{node.lineno} {t}" for t in targets if t in EDGE or t.startswith(EDGE_PACKAGES)]
    assert checked >= 60 and offenders == []


def test_each_stage_is_one_domain_function_returning_a_verdict() -> None:
    """Every operator's stage is an Airflow-free function ``stage(request, run, tracking) -> Verdict``."""
    import importlib
    import inspect

    for module_name, function in STAGES.items():
        stage = getattr(importlib.import_module(module_name), function)
        assert list(inspect.signature(stage).parameters)[1:] == ["run", "tracking"], module_name
        assert inspect.signature(stage).return_annotation == "Verdict", module_name
    operators = Path(airflow_robust.__file__).parent / "operators"
    assert not [p.name for p in operators.glob("_*_stage.py")]  # no stage bodies left among the operators


def test_lazy_public_api_resolves_every_name() -> None:
    for name in airflow_robust.__all__:
        assert getattr(airflow_robust, name) is not None
    assert "TrainModelOperator" in dir(airflow_robust)


def import_graph(package_dir: Path, *, with_type_checking: bool = False) -> dict[str, set[str]]:
    """``module -> package modules it imports`` (module level and inside functions), from the source."""
    modules = {}
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        skipped: set[int] = set()
        if not with_type_checking:
            for node in ast.walk(tree):
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    skipped.update(id(child) for child in ast.walk(node))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("with_type_checking", [False, True], ids=["run time", "with TYPE_CHECKING imports"])
def test_package_modules_import_each_other_without_cycles(with_type_checking: bool) -> None:
    """No import circle among the package's modules (imports inside functions count), not even through
    imports made for type checking only: a stage module types its operator with a Protocol of what it
    reads (e.g. ``PromotionRequest``) and never imports the operator."""
    graph = import_graph(Path(airflow_robust.__file__).parent, with_type_checking=with_type_checking)
    assert len(graph) > 80 and graph["airflow_robust.operators.promote"]
    assert cycles(graph) == []


def test_robust_tag_names_are_spelled_only_in_registry_tags() -> None:
    """Every ``robust.*`` tag name in code (a string that is a tag name or a search filter on one) comes
    from ``airflow_robust.registry.tags``; messages and docstrings for people may name tags."""
    import ast

    package = Path(airflow_robust.__file__).parent
    stray = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "tags.py":
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            if is_text and (node.value.startswith("robust.") or "tags.`robust." in node.value):
                stray.append(f"{path.relative_to(package)}:{node.lineno}: {node.value[:60]!r}")
    assert stray == []
    from airflow_robust.registry import tags

    assert tags.gate_tag("promotion", "status") == tags.PROMOTION_STATUS_TAG == "robust.promotion.status"
    assert tags.rollback_tag("champion", "dag") == "robust.rollback.champion.dag"
