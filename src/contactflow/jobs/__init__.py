"""Jobs: small jobflow jobs and Makers, one science task each."""

from contactflow.jobs.adhesion import AdhesionMaker, work_of_separation_J_per_m2

__all__ = ["AdhesionMaker", "work_of_separation_J_per_m2"]
