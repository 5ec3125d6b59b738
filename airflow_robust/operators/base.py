"""``RobustBaseOperator``: what every airflow-robust operator shares.

``execute()`` validates parameters (declared as data in ``PARAMETERS``), points MLflow at the
configured connection, opens this task try's child run under the DAG run's parent run, pushes
the "MLflow run" link, calls :meth:`run_stage`, and converts errors into task outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowRescheduleException, AirflowSkipException

from airflow_robust.exceptions import AirflowRobustError
from airflow_robust.links import XCOM_RUN_URL, MlflowRunLink
from airflow_robust.operators._edge import for_airflow, identity_from_context
from airflow_robust.params import Constraint, non_empty_str, validate

if TYPE_CHECKING:
    from airflow_robust.data.access import Storage
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.registry.store import ModelStore
    from airflow_robust.requests import Tracking
    from airflow_robust.tracking.identity import StageIdentity
    from airflow_robust.tracking.runs import StageRun
    from airflow_robust.trust.gate import Signer, Verdict


class RobustBaseOperator(BaseOperator):
    """Base of airflow-robust operators.

    :param mlflow_conn_id: Airflow connection to MLflow; default ``mlflow_default`` (embedded
        SQLite store under ``$AIRFLOW_HOME`` when it does not exist).
    :param experiment_name: MLflow experiment; default ``airflow/<dag_id>``.
    :param signing_conn_id: Airflow connection whose password is the key that signs gate evidence;
        default ``airflow_robust_signing`` (see :mod:`airflow_robust.hooks.signing` for the fallbacks).
    """

    stage: ClassVar[str] = "stage"
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        "mlflow_conn_id": non_empty_str(),
        "experiment_name": non_empty_str().or_none(),
        "signing_conn_id": non_empty_str(),
    }
    operator_extra_links = (MlflowRunLink(),)

    def __init__(
        self,
        *,
        mlflow_conn_id: str = "mlflow_default",
        experiment_name: str | None = None,
        signing_conn_id: str = "airflow_robust_signing",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mlflow_conn_id = mlflow_conn_id
        self.experiment_name = experiment_name
        self.signing_conn_id = signing_conn_id

    def parameter_values(self) -> dict[str, Any]:
        return {name: getattr(self, name, None) for name in self.PARAMETERS}

    def execute(self, context: Any) -> Any:
        from airflow_robust.hooks.mlflow import MlflowHook
        from airflow_robust.tracking.runs import stage_run

        try:
            validate(type(self).__name__, self.PARAMETERS, self.parameter_values())
            self.check_parameters()
            hook = MlflowHook(self.mlflow_conn_id)
            with hook.applied() as config:
                client = hook.get_client()
                identity = identity_from_context(context, self.experiment_name)
                try:
                    self.before_stage(context, client, identity)
                    with stage_run(
                        client,
                        identity,
                        self.stage,
                        config.artifact_root,
                        ok_exceptions=(AirflowSkipException, AirflowRescheduleException),
                    ) as run:
                        url = config.run_url(run.experiment_id, run.run_id)
                        context["ti"].xcom_push(key=XCOM_RUN_URL, value=url)
                        self.log.info("MLflow run: %s", url)
                        return self.run_stage(context, run, hook)
                except AirflowRobustError:
                    raise
                except Exception as err:
                    from airflow_robust.data.errors import database_error

                    translated = database_error(err) or hook.translate(err)
                    if translated is not err:
                        raise translated from err
                    raise
        except AirflowRobustError as err:
            raise for_airflow(err) from err

    def signer(self, run: StageRun, tracking: Tracking) -> Signer:
        """Signs this stage's verdicts into its MLflow run (the key comes from Airflow, see ``signing_conn_id``)."""
        from airflow_robust.hooks.signing import signing_key
        from airflow_robust.trust.gate import Signer

        return Signer(tracking.get_client(), run, signing_key(tracking.get_config(), self.signing_conn_id))

    @property
    def storage(self) -> Storage:
        """The data's storage in a task: Airflow's object storage and connections."""
        from airflow_robust.operators._data import STORAGE

        return STORAGE

    def settle(self, verdict: Verdict, context: Any, notifiers: Any = None) -> dict[str, Any]:
        """The stage's verdict as this task's outcome (see :func:`airflow_robust.operators._gate.settle`)."""
        from airflow_robust.operators._gate import settle

        return settle(verdict, context, self.log, notifiers=notifiers, outlets=self.outlets)

    def check_parameters(self) -> None:
        """Cross-parameter checks beyond ``PARAMETERS``; raise ``InvalidParameterError``."""

    def before_stage(self, context: Any, client: ModelStore, identity: StageIdentity) -> None:
        """Runs before the stage's MLflow run is opened (e.g. reschedule while another DAG run holds a lease)."""

    def run_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> Any:
        raise NotImplementedError


class LeasedOperator(RobustBaseOperator):
    """An operator that moves aliases of ``model_name`` under the model's promotion lease.

    While another DAG run holds the lease the task is *rescheduled* (``up_for_reschedule``,
    checked again after ``lease_poll`` seconds) instead of holding a worker slot: with
    ``approval="auto"`` a promote task keeps the lease until its deploy task runs, and waiting
    promote tasks must not starve that deploy task of worker slots.
    """

    model_name: str
    lease_poll: float = 15.0

    def before_stage(self, context: Any, client: ModelStore, identity: StageIdentity) -> None:
        from airflow_robust.registry.lease import busy_by_other, holder_for, release_if_ended

        mine = holder_for(identity.dag_id, identity.run_id)
        release_if_ended(client, self.model_name, lambda holder: holder != mine and _dag_run_ended(context, holder))
        holder = busy_by_other(client, self.model_name, mine)
        if holder is not None:
            self.reschedule(f"the promotion lease on {self.model_name!r} is held by {holder}")

    def run_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> Any:
        from airflow_robust.registry.lease import LeaseTimeout

        try:
            return self.leased_stage(context, run, hook)
        except LeaseTimeout as err:
            self.reschedule(str(err))

    def leased_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> Any:
        raise NotImplementedError

    def reschedule(self, why: str) -> NoReturn:
        from datetime import datetime, timedelta, timezone

        when = datetime.now(tz=timezone.utc) + timedelta(seconds=float(self.lease_poll))
        self.log.info("%s; rescheduling this task for %s (no worker slot is held meanwhile)", why, when.isoformat())
        raise AirflowRescheduleException(when)  # type: ignore[no-untyped-call]


def _dag_run_ended(context: Any, holder: str) -> bool:
    """Whether the DAG run holding a lease has finished (success or failed), asked through the Task SDK."""
    from airflow_robust.registry.lease import split_holder

    ti = context.get("ti") if hasattr(context, "get") else None
    state_of = getattr(ti, "get_dagrun_state", None)
    if state_of is None:
        return False
    dag_id, run_id = split_holder(holder)
    try:
        state = str(state_of(dag_id=dag_id, run_id=run_id))
    except Exception:  # noqa: BLE001 - cannot tell: keep the lease (it still expires after lease_ttl)
        return False
    return state.lower().rsplit(".", 1)[-1] in ("success", "failed")


def split_params(params: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Separate an operator's own ``params`` (model hyperparameters) from DAG-level Airflow Params.

    Airflow merges a task's ``params`` with the DAG's into one ``ParamsDict`` before ``__init__``
    runs; entries whose source is ``"task"`` are the operator's own.
    """
    if params is None:
        return {}, None
    if not hasattr(params, "get_param"):
        return dict(params) if isinstance(params, Mapping) else params, None
    own: dict[str, Any] = {}
    inherited: dict[str, Any] = {}
    for key in params:
        param = params.get_param(key)
        if getattr(param, "source", None) == "dag":
            inherited[key] = param
        else:
            own[key] = param.value
    return own, inherited or None
