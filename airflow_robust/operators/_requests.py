"""What stages read of their operators, the parts they share: each stage module declares a Protocol of the
rest (``PromotionRequest``, ``DeployRequest``, ...). Operators satisfy them structurally, so a stage module
never imports its operator and mypy checks each call from ``run_stage``. Imports nothing at run time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.operators._gate import Signer
    from airflow_robust.tracking.runs import StageRun


class StageRequest(Protocol):
    """Every stage logs to the task's log."""

    @property
    def log(self) -> Any: ...


class SignedRequest(StageRequest, Protocol):
    """A gate: its verdict is signed with the key of the operator's signing connection."""

    def signer(self, run: StageRun, hook: MlflowHook) -> Signer: ...


class DataRequest(Protocol):
    """A stage that reads data: SQL through ``conn_id``, or a file whose format may be forced."""

    @property
    def conn_id(self) -> str | None: ...

    @property
    def data_format(self) -> str | None: ...


class LeaseRequest(Protocol):
    """A stage that moves a registered model's aliases under the model's lease."""

    @property
    def model_name(self) -> str: ...

    @property
    def lease_ttl(self) -> float: ...

    @property
    def lease_wait(self) -> float: ...
