"""``PromoteModelOperator``: champion/challenger gate that fails closed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_robust.data.sources import FORMATS
from airflow_robust.operators._notify import NOTIFIERS
from airflow_robust.operators.base import LeasedOperator, RobustBaseOperator
from airflow_robust.params import (
    VERSION,
    Constraint,
    alias_name,
    boolean,
    model_name,
    non_empty_str,
    number_in,
    one_of,
    str_list,
)

if TYPE_CHECKING:
    from airflow_robust.hooks.mlflow import MlflowHook
    from airflow_robust.tracking.runs import StageRun

_RULES = Constraint(
    "a list of rule dicts such as {'metric': 'f1_macro', 'direction': 'higher', 'max_regression': 0.0}",
    lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, Mapping) for x in v),
    example_bad=("f1 > 0.8", {"metric": "f1"}),
)

_GATES = Constraint(
    "a list of gate names such as ['validation', 'robustness'] (an empty list requires none)",
    lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, str) and x.isidentifier() for x in v),
    example_bad=("auto", "all", [1]),
)
#: gates a promotion requires unless told otherwise (declared, never inferred from the DAG)
DEFAULT_REQUIRED_GATES = ("validation", "robustness")


class PromoteModelOperator(LeasedOperator):
    """Decide whether ``candidate_version`` may replace ``@champion``; fail closed.

    :param model_name: registered model name.
    :param candidate_version: version to judge (templated; typically the train task's XCom).
    :param rules: rule dicts (see :mod:`airflow_robust.promotion.policy`); none at all refuses.
    :param evaluation_data: data both candidate and champion are scored on, in this task (its
        digest is recorded). URI, import-path callable, or SQL with ``conn_id``.
    :param target: label column of ``evaluation_data``.
    :param approval: ``"auto"`` (a passing candidate is approved for deployment) or ``"manual"``
        (it gets alias ``challenger`` and ``robust.approval=pending`` for a reviewer).
    :param required_gates: gates whose *signed* verdict on this version (and these model files) must
        verify and say ``passed``; default ``("validation", "robustness")``. The version's registration
        evidence (digest of its files) is always required. A gate that did not run fails the promotion
        with a message naming it. Tags on the version are never trusted.
    :param on_missing_champion: ``"promote"`` (default: a rubber stamp, recorded) or ``"fail"``.
    :param compare_on: ``"evaluation_data"`` (default) or ``"logged_metrics"`` (the metrics each
        version's training run logged, on whatever data that was).
    :param bootstrap_resamples: paired bootstrap resamples of each compared metric (0 = off).
    :param confidence: bootstrap confidence level; default ``0.95``.
    :param seed: bootstrap seed; default ``42``.
    :param champion_alias: default ``"champion"``.
    :param challenger_alias: default ``"challenger"``.
    :param on_failure: ``"fail"`` (default), ``"skip"`` or ``"warn"`` when the decision is "rejected".
    :param lease_ttl: seconds a promotion lease lives (auto approval keeps it until deploy); 1800.
    :param lease_wait: seconds to wait in the task for the lease before rescheduling it (no worker slot is
        held while rescheduled); 60.
    :param features: feature columns of ``evaluation_data``; default each model's own (signature or
        ``feature_names_in_``), so candidate and champion may use different columns.
    :param data_format: file format of ``evaluation_data`` when its suffix does not tell.
    :param conn_id: Airflow connection for SQL ``evaluation_data``.
    :param write_description: rewrite the version's MLflow description as the review page (status line,
        evidence table, links); default ``True``. ``False`` leaves the description to you (tags are still set).
    :param notifiers: Airflow notifiers (``BaseNotifier``: Slack, SMTP, your own) told of the decision, with
        ``airflow_robust.mlflow_url`` (the version page) and the rest of :mod:`airflow_robust.operators._notify`
        in their template context.
    :param notify_on: decisions that notify; default ``("pending_approval",)``.

    Returns (XCom) ``decision`` (``promoted`` | ``pending_approval`` | ``rejected``), ``checks``,
    ``champion_version``, ``candidate_version``, ``rubber_stamp``, ``data_digest``, ``run_id``.
    """

    stage = "promotion"
    template_fields: Sequence[str] = (
        "model_name",
        "candidate_version",
        "rules",
        "evaluation_data",
        "target",
        "conn_id",
        "experiment_name",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"rules": "json"}
    PARAMETERS: ClassVar[Mapping[str, Constraint]] = {
        **RobustBaseOperator.PARAMETERS,
        "model_name": model_name(),
        "candidate_version": VERSION,
        "rules": _RULES,
        "evaluation_data": non_empty_str().or_none(),
        "target": non_empty_str().or_none(),
        "approval": one_of("auto", "manual"),
        "required_gates": _GATES,
        "on_missing_champion": one_of("promote", "fail"),
        "compare_on": one_of("evaluation_data", "logged_metrics"),
        "bootstrap_resamples": number_in(0, 100_000, integer=True),
        "confidence": number_in(0.5, 0.999),
        "seed": number_in(0, 2**32 - 1, integer=True),
        "champion_alias": alias_name(),
        "challenger_alias": alias_name(),
        "on_failure": one_of("fail", "skip", "warn"),
        "features": str_list().or_none(),
        "conn_id": non_empty_str().or_none(),
        "data_format": one_of(*FORMATS).or_none(),
        "lease_ttl": number_in(10, 7 * 24 * 3600),
        "lease_wait": number_in(0, 24 * 3600),
        "write_description": boolean(),
        "notifiers": NOTIFIERS,
        "notify_on": str_list(),
    }

    def __init__(
        self,
        *,
        model_name: str,
        candidate_version: str | int,
        rules: Sequence[Mapping[str, Any]],
        evaluation_data: str | None = None,
        target: str | None = None,
        approval: str = "manual",
        required_gates: Sequence[str] = DEFAULT_REQUIRED_GATES,
        on_missing_champion: str = "promote",
        compare_on: str = "evaluation_data",
        bootstrap_resamples: int = 0,
        confidence: float = 0.95,
        seed: int = 42,
        champion_alias: str = "champion",
        challenger_alias: str = "challenger",
        on_failure: str = "fail",
        features: Sequence[str] | None = None,
        conn_id: str | None = None,
        data_format: str | None = None,
        lease_ttl: float = 1800,
        lease_wait: float = 60,
        write_description: bool = True,
        notifiers: Any = None,
        notify_on: Sequence[str] = ("pending_approval",),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model_name = model_name
        self.candidate_version = candidate_version
        self.rules = rules
        self.evaluation_data = evaluation_data
        self.target = target
        self.approval = approval
        self.required_gates = required_gates
        self.on_missing_champion = on_missing_champion
        self.compare_on = compare_on
        self.bootstrap_resamples = bootstrap_resamples
        self.confidence = confidence
        self.seed = seed
        self.champion_alias = champion_alias
        self.challenger_alias = challenger_alias
        self.on_failure = on_failure
        self.features = features
        self.conn_id = conn_id
        self.data_format = data_format
        self.lease_ttl = lease_ttl
        self.lease_wait = lease_wait
        self.write_description = write_description
        self.notifiers = notifiers
        self.notify_on = notify_on

    def check_parameters(self) -> None:
        from airflow_robust.exceptions import ConfigurationError, InvalidParameterError
        from airflow_robust.promotion.compare import KNOWN_METRICS
        from airflow_robust.promotion.policy import parse_rules

        owner = type(self).__name__
        try:
            rules = parse_rules(self.rules)
        except ConfigurationError as err:
            raise InvalidParameterError(
                "rules", owner, "a list of valid rule dicts", self.rules, detail=str(err)
            ) from err
        if self.compare_on == "evaluation_data":
            for name, value in (("evaluation_data", self.evaluation_data), ("target", self.target)):
                if not value:
                    raise InvalidParameterError(name, owner, "set when compare_on='evaluation_data'", value)
            unknown = sorted({r.metric for r in rules} - set(KNOWN_METRICS))
            if unknown:
                raise InvalidParameterError(
                    "rules", owner, f"rules on metrics this task can compute {list(KNOWN_METRICS)}", unknown
                )
        unknown_decisions = sorted(set(self.notify_on) - {"promoted", "pending_approval", "rejected"})
        if unknown_decisions:
            raise InvalidParameterError(
                "notify_on", owner, "decisions among 'promoted', 'pending_approval', 'rejected'", unknown_decisions
            )
        if self.champion_alias == self.challenger_alias:
            raise InvalidParameterError(
                "challenger_alias",
                owner,
                f"different from champion_alias {self.champion_alias!r}",
                self.challenger_alias,
            )

    def leased_stage(self, context: Any, run: StageRun, hook: MlflowHook) -> dict[str, Any]:
        from airflow_robust.promotion.gate import promote

        return self.settle(promote(self, run, hook), context, notifiers=self.notifiers)
