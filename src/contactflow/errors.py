"""Exceptions that the CLI turns into one-line messages and a non-zero exit."""


class ContactflowError(Exception):
    """Base class: a user-facing error that says what was wrong and what is valid."""


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


#: exit code of a command whose calculations ran but did not all succeed (failed, unbound, suspect)
EXIT_CALCULATION_FAILED = 3


class CalculationsFailed(ContactflowError):
    """Some calculations ended failed, unbound or suspect: their documents are stored with the reason;
    the CLI exits with :data:`EXIT_CALCULATION_FAILED` so scripts can tell."""

    exit_code = EXIT_CALCULATION_FAILED
