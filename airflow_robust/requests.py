"""What a stage is given: its typed request, the tracking store and the data's storage, as Protocols.

A stage (``promotion.gate.promote``, ``deployment.stage.deploy``, ...) is an Airflow-free function
``stage(request, run, tracking) -> Verdict``. Each stage module declares a Protocol of the
parameters it reads (``PromotionRequest``, ``DeployRequest``, ...) built from the parts below;
an operator satisfies its stage's Protocol structurally (mypy checks each call), and so can any
object a test or another orchestrator builds. Imports nothing at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from airflow_robust.data.access import Storage
    from airflow_robust.exceptions import TrackingUnavailable
    from airflow_robust.registry.store import ModelStore
    from airflow_robust.tracking.config import MlflowConfig
    from airflow_robust.tracking.runs import StageRun
    from airflow_robust.trust.gate import Signer


class Tracking(Protocol):
    """The MLflow connection a stage works through (``MlflowHook`` in Airflow)."""

    def get_client(self) -> ModelStore: ...

    def get_config(self) -> MlflowConfig: ...

    def unavailable(self, err: BaseException) -> TrackingUnavailable: ...


class StageRequest(Protocol):
    """Every stage logs to the task's log and reads what data it reads from ``storage``."""

    @property
    def log(self) -> Any: ...

    @property
    def storage(self) -> Storage: ...


class SignedRequest(StageRequest, Protocol):
    """A gate: its verdict is signed with the key of the operator's signing connection."""

    def signer(self, run: StageRun, tracking: Tracking) -> Signer: ...


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
