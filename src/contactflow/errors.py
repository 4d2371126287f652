"""Exceptions that the CLI turns into one-line messages, and the exit codes a script can rely on.

Exit codes of the ``contactflow`` command:

=====  ==========================  ==============================================================
code   constant                    meaning
=====  ==========================  ==============================================================
0      :data:`EXIT_OK`             every requested job succeeded
1      :data:`EXIT_INTERNAL`       a bug in contactflow (a traceback is printed; please report it)
2      :data:`EXIT_BAD_INPUT`      bad input, configuration or environment: one line ``error: …``
3      :data:`EXIT_FAILED_CALCULATION`  the command ran, but at least one calculation failed (its
                                   document is stored with ``state="failed"``)
130    :data:`EXIT_INTERRUPTED`    interrupted (Ctrl-C); results already stored are kept
=====  ==========================  ==============================================================
"""

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_FAILED_CALCULATION = 3
EXIT_INTERRUPTED = 130


class ContactflowError(Exception):
    """Base class: a user-facing error that says what was wrong and what is valid.

    The CLI prints it as one line ``error: …`` and exits with :attr:`exit_code`.
    """

    exit_code: int = EXIT_BAD_INPUT


class CalculationsFailed(ContactflowError):
    """Some calculations of a command failed (their documents are stored with their state: ``failed``,
    ``unbound``, ``suspect`` or ``extrapolating``).

    Parameters
    ----------
    n_failed
        Number of failed jobs.
    n_total
        Number of jobs run (``None`` when unknown).
    detail
        Optional text appended to the message (e.g. the first failure reason).
    states
        The states of the documents concerned (named in the message).
    """

    exit_code = EXIT_FAILED_CALCULATION

    def __init__(self, n_failed: int, n_total: int | None = None, detail: str = "", states=("failed",)):
        self.n_failed, self.n_total, self.detail = int(n_failed), n_total, detail
        of = f" of {n_total}" if n_total is not None else ""
        names = sorted(set(states)) or ["failed"]
        msg = (f"{self.n_failed}{of} calculation(s) failed or are not to be trusted; their documents are stored "
               f"with state {', '.join(repr(n) for n in names)}")
        super().__init__(f"{msg}: {detail}" if detail else msg)


class ConfigError(ContactflowError, ValueError):
    """The configuration (environment or config file) is invalid."""


class StoreUnavailableError(ContactflowError):
    """The MongoDB-protocol store cannot be reached or started."""


class EngineSpecError(ContactflowError, ValueError):
    """An engine spec string names no known engine."""


class RecipeError(ContactflowError, ValueError):
    """A recipe is missing or invalid."""


class DispatchError(ContactflowError):
    """A workflow cannot be submitted, launched or changed on the job queue (FireWorks / SLURM)."""


class CategoryError(DispatchError, ValueError):
    """An unknown worker/job category (valid: gpu, cpu, small, any)."""


class QueueConfigError(DispatchError, ValueError):
    """A queue template (my_qadapter.yaml, my_fworker.yaml) is malformed."""


class TrainingInputError(ContactflowError, ValueError):
    """Training data, labelling or model settings that cannot give the requested potential."""


class MakerFieldError(ContactflowError, ValueError):
    """A Maker field (``--set TASK.FIELD=VALUE`` or a recipe's task settings) has a wrong type or range."""

