"""The provider's Airflow plugin: the *Model reviews* page inside the Airflow UI (see :mod:`.review_page`)."""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

#: where the page and its API live on the Airflow api-server
URL_PREFIX = "/airflow-robust"


class LazyApp:
    """An ASGI app that builds the FastAPI app on its first request.

    Every Airflow process loads plugins (the DAG processor and task runners too): importing FastAPI
    and MLflow here would cost them parse time for a page only the api-server serves."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from airflow_robust.plugins.review_page import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class AirflowRobustPlugin(AirflowPlugin):
    """Pending reviews, their evidence (plots inline) and each model's alias history, behind Airflow's login."""

    name = "airflow_robust"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "airflow-robust model reviews"}]
    external_views = [
        {
            "name": "Model reviews",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "category": "browse",
            "url_route": "airflow-robust-reviews",
        }
    ]
