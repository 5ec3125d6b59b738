"""Import-path data callables for the integration DAGs (scikit-learn's bundled datasets)."""

from __future__ import annotations

from typing import Any


def breast_cancer() -> Any:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame
