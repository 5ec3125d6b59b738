"""Re-derive a version's verdicts from signed runs: what promotion and deployment rely on.

A model version carries *pointers* only (``robust.<gate>.run_id``, ``robust.approval.run.<task>``);
every verdict is read back from the run it points at and verified (:mod:`.evidence`). The chain:

- **registration** (``TrainModelOperator`` / ``RegisterModelOperator``): the version's files had
  digest ``d`` when it was registered; it lists the gate runs of the same DAG run that judged the
  data it was trained on (validation);
- **gates** (validation, robustness, ...): each verdict names this version and digest ``d``, or
  (data gates that ran before the version existed) is listed in the signed registration and comes
  from the same DAG run;
- **promotion**: names this version and ``d``, the alias it judged, the alias's version at decision
  time (compare-and-set), the gates it required and their runs;
- **approval** (manual promotions): names this version and the promotion run it approves, who
  approved and whether Airflow authenticated that person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_robust.exceptions import EvidenceError
from airflow_robust.registry.tags import APPROVAL_RUN_PREFIX, gate_tag
from airflow_robust.trust.evidence import Attestation, read_attestation, require_model, require_passed
from airflow_robust.trust.signing import SigningKey

if TYPE_CHECKING:
    from airflow_robust.registry.store import ModelStore

REGISTRATION = "registration"
PROMOTION = "promotion"
APPROVAL = "approval"
#: gate -> the operator that writes its verdict (for messages only; nothing is inferred from it)
GATE_OPERATORS = {
    "validation": "ValidateDataOperator",
    "robustness": "EvaluateRobustnessOperator",
    REGISTRATION: "TrainModelOperator or RegisterModelOperator",
}


def pointer_tag(gate: str) -> str:
    """The version tag that points at ``gate``'s run (comma-separated when several ran)."""
    return gate_tag(gate, "run_id")


def approval_pointer(task_key: str) -> str:
    """One tag per approving task, so concurrent reviewers never overwrite each other's pointer."""
    return APPROVAL_RUN_PREFIX + task_key


@dataclass(frozen=True)
class GateVerdict:
    """Whether ``gate``'s verdict on a version verifies and passed; ``problem`` says why not."""

    gate: str
    verified: bool
    runs: tuple[str, ...] = ()
    problem: str = ""

    @property
    def status(self) -> str:
        return "passed" if self.verified else f"not verified: {self.problem}"


@dataclass(frozen=True)
class Approver:
    by: str
    by_id: str
    verified: bool
    source: str
    run_id: str
    at: str


@dataclass(frozen=True)
class Clearance:
    """A version cleared for ``alias``: the promotion it rests on, the expected alias target, approvers."""

    promotion: Attestation
    expected_from: str | None
    approvers: tuple[Approver, ...] = ()
    gates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def who(self) -> str:
        if not self.approvers:
            return f"airflow-robust (approval={self.promotion.facts.get('approval', 'auto')!s})"
        return ", ".join(a.by + ("" if a.verified else " (unverified)") for a in self.approvers)


def registration_of(
    client: ModelStore, key: SigningKey, name: str, version: str, digest: str, tags: Mapping[str, str]
) -> Attestation:
    """The verified registration attestation of ``name`` version ``version`` with files ``digest``."""
    runs = _runs(tags.get(pointer_tag(REGISTRATION), ""))
    if not runs:
        raise EvidenceError(
            f"version {version} of {name!r} has no registration evidence (tag {pointer_tag(REGISTRATION)}): "
            "register it with TrainModelOperator, or attest a version your own code registered with "
            "RegisterModelOperator"
        )
    record = read_attestation(client, runs[-1], key, gate=REGISTRATION)
    require_model(record, name, version, digest)
    require_passed(record)
    return record


def gate_verdict(
    client: ModelStore,
    key: SigningKey,
    gate: str,
    name: str,
    version: str,
    digest: str,
    tags: Mapping[str, str],
    registration: Attestation | None,
) -> GateVerdict:
    """Verify every run that holds a ``gate`` verdict on this version; all must verify and pass."""
    linked = [str(r) for r in (registration.facts.get("gate_runs", {}).get(gate, []) if registration else [])]
    runs = tuple(dict.fromkeys([*linked, *_runs(tags.get(pointer_tag(gate), ""))]))
    try:
        if not runs:
            raise EvidenceError(f"no {gate} gate result on version {version} of {name!r}")
        for run_id in runs:
            record = read_attestation(client, run_id, key, gate=gate)
            if record.model is not None:
                require_model(record, name, version, digest)
            elif registration is None or run_id not in linked or record.dag_run != registration.dag_run:
                raise EvidenceError(
                    f"the {gate} verdict in run {run_id!r} names no model version and is not part of "
                    f"this version's signed registration (same DAG run)"
                )
            require_passed(record)
            if record.facts.get("report_only"):
                raise EvidenceError(
                    f"the {gate} gate in run {run_id!r} ran with report_only=True: it reports, it does not gate"
                )
    except EvidenceError as err:
        return GateVerdict(gate, False, runs, str(err))
    return GateVerdict(gate, True, runs)


def clearance(
    client: ModelStore,
    key: SigningKey,
    name: str,
    version: str,
    digest: str,
    alias: str,
    tags: Mapping[str, str],
    *,
    min_approvals: int = 1,
    verified_approvers: bool = False,
) -> Clearance:
    """Everything deploying ``name`` version ``version`` to ``alias`` rests on, re-verified; else ``EvidenceError``."""
    runs = _runs(tags.get(pointer_tag(PROMOTION), ""))
    if not runs:
        raise EvidenceError(f"version {version} of {name!r} has no promotion decision (tag {pointer_tag(PROMOTION)})")
    promotion = read_attestation(client, runs[-1], key, gate=PROMOTION)
    require_model(promotion, name, version, digest)
    require_passed(promotion)
    judged = promotion.facts.get("champion_alias")
    if judged != alias:
        raise EvidenceError(
            f"the promotion decision in run {promotion.run_id!r} judged @{judged}, not @{alias}: "
            f"promote the version against @{alias} first"
        )
    registration = registration_of(client, key, name, version, digest, tags)
    gates: dict[str, tuple[str, ...]] = {}
    for gate in promotion.facts.get("required_gates", []):
        verdict = gate_verdict(client, key, str(gate), name, version, digest, tags, registration)
        if not verdict.verified:
            raise EvidenceError(f"required gate {gate!r}: {verdict.problem}")
        gates[str(gate)] = verdict.runs
    decision = promotion.facts.get("decision")
    approvers: tuple[Approver, ...] = ()
    if decision == "pending_approval":
        approvers = _approvals(client, key, promotion, name, version, digest, tags, min_approvals, verified_approvers)
    elif decision != "promoted":
        raise EvidenceError(f"the promotion decision in run {promotion.run_id!r} is {decision!r}")
    before = promotion.facts.get("champion_before")
    return Clearance(promotion, str(before) if before else None, approvers, gates)


def _approvals(
    client: ModelStore,
    key: SigningKey,
    promotion: Attestation,
    name: str,
    version: str,
    digest: str,
    tags: Mapping[str, str],
    min_approvals: int,
    verified_only: bool,
) -> tuple[Approver, ...]:
    approvers: dict[str, Approver] = {}
    unverified: list[str] = []
    for tag, value in sorted(tags.items()):
        if not tag.startswith(APPROVAL_RUN_PREFIX):
            continue
        for run_id in _runs(value):
            record = read_attestation(client, run_id, key, gate=APPROVAL)
            require_model(record, name, version, digest)
            if record.facts.get("promotion_run") != promotion.run_id:
                continue  # a review of an earlier promotion of this version
            facts = record.facts
            who = Approver(
                by=str(facts.get("by", "")),
                by_id=str(facts.get("by_id") or facts.get("by", "")),
                verified=bool(facts.get("verified")),
                source=str(facts.get("source", "")),
                run_id=run_id,
                at=str(facts.get("at", "")),
            )
            if not record.passed:
                raise EvidenceError(
                    f"version {version} of {name!r} was rejected by {who.by or 'a reviewer'} "
                    f"({facts.get('reason') or 'no reason given'}; run {run_id!r})"
                )
            if verified_only and not who.verified:
                unverified.append(who.by or "?")
                continue
            approvers.setdefault(who.by_id, who)
    if len(approvers) < min_approvals:
        detail = f"; not counted (identity unverified): {unverified}" if unverified else ""
        raise EvidenceError(
            f"version {version} of {name!r} has {len(approvers)} verified approval(s) of the promotion in run "
            f"{promotion.run_id!r}, {min_approvals} required{detail}"
        )
    return tuple(sorted(approvers.values(), key=lambda a: (a.at, a.by)))


def _runs(value: str) -> list[str]:
    return [part.strip() for part in str(value or "").split(",") if part.strip()]
