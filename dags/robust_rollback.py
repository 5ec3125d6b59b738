"""Example: undo a deployment. Trigger it with a reason; ``@champion`` goes back one step.

``RollbackModelOperator`` moves ``@champion`` to ``@previous_champion`` (or to the version given
in ``to_version``), records who and why in the alias history, tags the version it replaced
``robust.deploy.status=rolled_back`` and updates the deployment Asset, so serving DAGs scheduled
on it pick up the change. Running it twice is harmless: the second run finds nothing to undo.
"""

from __future__ import annotations

from airflow.sdk import Param, dag
from robust_example_tasks import MODEL_NAME

from airflow_robust.operators.deploy import RollbackModelOperator


@dag(
    schedule=None,
    catchup=False,
    render_template_as_native_obj=True,
    tags=["airflow-robust", "example"],
    doc_md=__doc__,
    params={
        "reason": Param("rollback requested", type="string", minLength=1, description="recorded in the history"),
        "to_version": Param(None, type=["null", "integer"], description="default: @previous_champion"),
    },
)
def robust_rollback() -> None:
    RollbackModelOperator(
        task_id="rollback",
        model_name=MODEL_NAME,
        reason="{{ params.reason }}",
        to_version="{{ params.to_version }}",  # rendered as a native value: None or an int
    )


robust_rollback()
