-- One PostgreSQL server, two databases: Airflow's metadata and MLflow's backend store.
CREATE DATABASE airflow;
CREATE DATABASE mlflow;
