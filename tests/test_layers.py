"""House rules: domain packages never import Airflow; the lazy public API resolves every name."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import airflow_robust

DOMAIN_PACKAGES = (
    "data",
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
PURE_MODULES = ("airflow_robust.exceptions", "airflow_robust.params")


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


def test_lazy_public_api_resolves_every_name() -> None:
    for name in airflow_robust.__all__:
        assert getattr(airflow_robust, name) is not None
    assert "TrainModelOperator" in dir(airflow_robust)
