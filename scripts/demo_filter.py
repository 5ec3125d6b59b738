"""Show the interesting lines of `airflow dags test` (the full log is kept in $AIRFLOW_HOME/demo.log)."""

from __future__ import annotations

import re
import sys

KEEP = re.compile(
    r"(DAG TEST\] (start|end) task|new_state=|MLflow run:|Using MLflow|Loaded \d+ rows|Trained a|Registered |"
    r"reusing it|gate passed|gate failed|Quarantined|@champion|DagRun Finished|Task failed|Error|Exception|Traceback)"
)
NOISE = re.compile(r"(DeprecatedImportWarning|_docs_decorators|graphviz)")


def main() -> None:
    for line in sys.stdin:
        if KEEP.search(line) and not NOISE.search(line):
            text = re.sub(r"^\S+Z \[\w+\s*\] ", "", line.rstrip())
            print(re.sub(r"\s+\[[\w.]+\]\s+(correlation_id|loc)=.*$", "", text)[:220])


if __name__ == "__main__":
    main()
