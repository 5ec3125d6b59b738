"""``RegisterModelOperator``: bring a model your own code trained into the gated loop.

Your ``@task`` trains and logs the model however it likes (``mlflow.xgboost.log_model``, a custom
``mlflow.pyfunc.PythonModel``, ...). This operator then registers it (``model_uri``) or takes the
version you registered (``version``), and gives it what ``TrainModelOperator`` gives its own
versions: Airflow provenance tags, the training data's URI and digest, the gate results of
validations that ran earlier in the same DAG run, and the signed registration evidence (the
digest of the model's files) that promotion and deploy verify.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_robust.data.sources import FORMATS
from airflow_robust.operators.base import RobustBaseOperator
from airflow_robust.params import VERSION, Constraint, model_name, non_empty_str, one_of, str_list

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import StageRun

_MODEL_URI = Constraint(
    "an MLflow model URI such as 'runs:/<run_id>/model' or 'models:/m-<id>'",
    lambda v: isinstance(v, str) and bool(re.match(r"^(runs:/[0-9a-f]{8,}/\S+|models:/m-[0-9a-f]+/?)$", v.strip())),
    optional=True,
    example_bad=("model.pkl", "s3://bucket/model"),
)


class RegisterModelOperator(RobustBaseOperator):
    """Register (or adopt) a model version trained by your own code, with provenance and signed evidence.

    :param model_name: registered model name.
    :param model_uri: the logged model to register as a new version (``runs:/<run_id>/model``, or
        ``models:/m-<id>`` from ``log_model(...).model_uri``); a retry of this task reuses the version it
        registered. Give either this or ``version``.
    :param version: a version your code registered already (``log_model(registered_model_name=...)``).
    :param training_data: URI/SQL/callable of the data the model was trained on: its URI and content digest
        are recorded (``robust.data.uri``, ``robust.data.digest``). Optional.
    :param target: with ``training_data``, its label column: a drift reference profile of the data is stored
        (``MonitorDriftOperator(reference="models:/<name>@champion")`` then works for this version).
    :param features: the feature columns of ``training_data`` (default: every column but ``target``).
    :param conn_id: connection for SQL ``training_data``.
    :param data_format: override the format by suffix.

    Returns (XCom) ``model_uri`` (``models:/<name>/<version>``), ``model_name``, ``version``,
    ``model_digest``, ``run_id``, ``gate_runs``, ``data_digest``.
    """

    stage = "registration"
    template_fields: Sequence[str] = ("model_name", "model_uri", "version", "training_data", "conn_id")
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "model_name": model_name(),
        "model_uri": _MODEL_URI,
        "version": VERSION.or_none(),
        "training_data": non_empty_str().or_none(),
        "target": non_empty_str().or_none(),
        "features": str_list().or_none(),
        "conn_id": non_empty_str().or_none(),
        "data_format": one_of(*FORMATS).or_none(),
    }

    def __init__(
        self,
        *,
        model_name: str,
        model_uri: str | None = None,
        version: str | int | None = None,
        training_data: str | None = None,
        target: str | None = None,
        features: Sequence[str] | None = None,
        conn_id: str | None = None,
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model_name = model_name
        self.model_uri = model_uri
        self.version = version
        self.training_data = training_data
        self.target = target
        self.features = features
        self.conn_id = conn_id
        self.data_format = data_format

    def check_parameters(self) -> None:
        from airflow_robust.exceptions import InvalidParameterError

        if (self.model_uri is None) == (self.version is None):
            raise InvalidParameterError(
                "model_uri",
                type(self).__name__,
                "given, or else 'version' (exactly one of the two)",
                self.model_uri,
                detail=f"version={self.version!r}.",
            )

    def run_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        from airflow_robust.training.register import register

        return self.settle(register(self, run, hook), context)
