"""Evidence that cannot be forged: signed gate verdicts bound to a model's content (Airflow-free).

MLflow tags are writable by anyone with EDIT rights, so no decision rests on a tag. Each gate
writes its verdict (``decision.json``) into its own MLflow run together with an *attestation*
(``attestation.json``): the gate, its status, the model version and the content digest of the
model files it judged, the Airflow task that ran it and the SHA-256 of ``decision.json``, signed
with an HMAC key that only Airflow holds (:mod:`.signing`). The model version carries only
pointers to those runs. Promotion and deployment re-derive every verdict from the runs
(:mod:`.evidence`): a tag, run or artifact written by hand does not verify.
"""
