"""Interface-trained potentials: labelled data sets, configuration sampling, MACE committees, active
learning. Pure functions and small classes; jobs and CLI call them (side effects stay at the edges)."""
