"""Spark as the engine for data that lives in a lakehouse (Airflow-free; needs the ``spark`` extra).

The operators select it from the data reference: ``spark:table:db.events`` (a catalog table),
``spark:s3a://bucket/events/`` or ``spark:/data/events.parquet`` (a path; format from the suffix or
``data_format``), ``spark:sql:SELECT ...`` (a query). Then validation runs through Great Expectations'
Spark data source (:mod:`.validate`), drift counts are Spark aggregations (:mod:`.drift`; only counts
leave the cluster) and batch scoring uses ``mlflow.pyfunc.spark_udf`` (:mod:`.batch`).

The session (:func:`.session.spark_session`) is the active one when the task already runs on a
Spark driver (EMR, Dataproc, Databricks jobs), else ``SPARK_REMOTE`` (Spark Connect, e.g. Databricks
Connect), else a new one with master ``AIRFLOW_ROBUST_SPARK_MASTER`` (default ``local[2]``).
"""
