"""``ValidationMaker``: one engine on one reference case → one :class:`ValidationDoc` (pure: the JobStore
writes it, ``store/views.py`` derives the ``validation`` collection)."""

from dataclasses import dataclass

from jobflow import Maker, job

from contactflow.schemas.validation import ValidationCase, ValidationDoc


def judge(value: float | None, case: ValidationCase, committee_std: float | None = None) -> dict:
    """Signed/relative error, pass/fail against the case's tolerance, and the 2σ calibration flag."""
    ref = case.reference
    if value is None:
        return {}
    err = value - ref.value
    out = {"signed_error": err, "relative_error": err / abs(ref.value) if ref.value else None,
           "status": "pass" if abs(err) <= ref.tolerance else "fail"}
    if committee_std is not None:
        out["within_2sigma"] = bool(abs(err) <= 2 * committee_std)
    return out


@dataclass
class ValidationMaker(Maker):
    """Run one validation case with one engine.

    Parameters
    ----------
    name
        Job name.
    engine
        Engine spec.
    device
        ``cpu`` (the suite's cells are small) or ``auto``.
    """

    name: str = "validation"
    engine: str = "chgnet+d3"
    device: str = "cpu"

    @job
    def make(self, case: ValidationCase) -> ValidationDoc:
        """The ValidationDoc of ``case`` with this engine."""
        return self.compute(case)

    def compute(self, case: ValidationCase) -> ValidationDoc:
        """The job body (callable outside jobflow)."""
        from contactflow.engines import engine_info, parse_spec
        from contactflow.engines.checks import supported_elements
        from contactflow.jobs.base import doc_key_for, make_provenance, timed
        from contactflow.validation import builders, properties

        spec = parse_spec(self.engine).canonical
        base = dict(
            doc_key=doc_key_for("va", {"case": case.model_dump(), "engine": spec}),
            case_id=case.id, title=case.title, system=case.system, chemistry=case.chemistry, task=case.task,
            property=case.property, engine=spec, unit=case.reference.unit, reference_value=case.reference.value,
            reference=case.reference, tolerance=case.reference.tolerance,
        )
        have = supported_elements(spec)
        missing = sorted(set(case.chemistry) - have) if have is not None else []
        if missing:
            return ValidationDoc(**base, status="skipped",
                                 reason=f"{spec} has no parameters for {', '.join(missing)} (covers "
                                        f"{', '.join(sorted(have))}): not a failure, the case does not apply")
        info = engine_info(spec, self.device)
        with timed() as timer:
            try:
                built = builders.build(case.builder, **case.builder_args)
                res = properties.PROPERTIES[case.property](built, spec, self.device, **case.compute)
                fields = {"value": res["value"], "committee_std": res["committee_std"], "n_atoms": res["n_atoms"],
                          "details": res["details"], **judge(res["value"], case, res["committee_std"])}
            except Exception as exc:  # noqa: BLE001  a failed calculation is a stored result, not a crash
                fields = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
        return ValidationDoc(**base, **fields, wall_time_s=timer.wall_time_s,
                             provenance=make_provenance(info, timer))
