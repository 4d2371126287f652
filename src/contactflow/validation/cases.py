"""The shipped reference cases (``cases/*.yaml``, one file per case) and their loader.

A case file that lacks a reference field (value, unit, method, citation, tolerance and why) is refused
with an error naming the file and the field: a number without its source is not a reference.
"""

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from contactflow.errors import ContactflowError
from contactflow.schemas.validation import PROPERTIES, ValidationCase

CASES_DIR = Path(__file__).resolve().parent / "cases"


class ReferenceCaseError(ContactflowError, ValueError):
    """A reference case file is incomplete (e.g. no citation) or names an unknown case/property."""


def load_case_file(path: Path) -> ValidationCase:
    """One case file → :class:`ValidationCase`.

    Raises
    ------
    ReferenceCaseError
        Missing or invalid fields, named one per line (``reference.citation: missing …``).
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ReferenceCaseError(f"validation case {path.name}: not valid YAML ({exc})") from None
    ref = data.get("reference") if isinstance(data, dict) else None
    if isinstance(ref, dict) and not str(ref.get("citation") or "").strip():
        raise ReferenceCaseError(f"validation case {path.name}: reference.citation is missing — every reference "
                                 "needs its source (paper, or the contactflow CP2K document and its settings)")
    try:
        case = ValidationCase.model_validate(data)
    except ValidationError as exc:
        probs = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ReferenceCaseError(f"validation case {path.name}: {probs}") from None
    if case.property not in PROPERTIES:
        raise ReferenceCaseError(f"validation case {path.name}: unknown property {case.property!r}; valid: "
                                 f"{', '.join(PROPERTIES)}")
    if case.id != path.stem:
        raise ReferenceCaseError(f"validation case {path.name}: id {case.id!r} must equal the file name")
    return case


@lru_cache(maxsize=4)
def _load_dir(directory: str) -> dict[str, ValidationCase]:
    return {c.id: c for c in (load_case_file(p) for p in sorted(Path(directory).glob("*.yaml")))}


def all_cases(directory: Path | None = None) -> dict[str, ValidationCase]:
    """Every case, by id (sorted by file name)."""
    return dict(_load_dir(str(directory or CASES_DIR)))


def select(case_ids: list[str] | None = None, include_all: bool = False,
           directory: Path | None = None) -> list[ValidationCase]:
    """Cases by id; without ids the ``fast`` subset (or every case with ``include_all``).

    Raises
    ------
    ReferenceCaseError
        An unknown case id (the message lists the valid ones).
    """
    cases = all_cases(directory)
    if case_ids:
        bad = [c for c in case_ids if c not in cases]
        if bad:
            raise ReferenceCaseError(f"unknown validation case {', '.join(map(repr, bad))}; valid: {', '.join(cases)}")
        return [cases[c] for c in dict.fromkeys(case_ids)]
    return [c for c in cases.values() if include_all or c.fast]
