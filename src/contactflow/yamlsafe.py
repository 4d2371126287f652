"""YAML text → Python data with ``yaml.safe_load`` only, where every failure is a user error.

``yaml.safe_load`` refuses tags that build objects, but on careless input it raises more than
``yaml.YAMLError``: ``ValueError`` (a date such as ``2026-02-30``, ``!!float abc``), ``AttributeError``
(``!!timestamp foo``), ``RecursionError`` (thousands of nested ``[``). Each becomes the caller's
error class with one line that says what was wrong.
"""

import yaml

from contactflow.errors import ContactflowError


def load_yaml_text(text: str, what: str, error: type[ContactflowError] = ContactflowError, hint: str = ""):
    """Parse YAML text safely.

    Parameters
    ----------
    text
        The YAML document.
    what
        What the text is, for the message (e.g. ``"recipe workflows/x.yaml"``).
    error
        The :class:`~contactflow.errors.ContactflowError` subclass to raise.
    hint
        Appended to the message (what is valid).

    Returns
    -------
    Any
        The parsed data (plain dicts, lists, scalars).

    Raises
    ------
    ContactflowError
        Of class ``error``: ``"<what> is not valid YAML (line N): …"`` or ``"<what> holds a value YAML
        cannot read: …"``.
    """
    tail = f"; {hint}" if hint else ""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{what} is not valid YAML{where}: {' '.join(str(problem).split())}{tail}") from None
    except RecursionError:
        raise error(f"{what} nests too deeply to be read as YAML{tail}") from None
    except Exception as exc:  # noqa: BLE001 - ValueError/AttributeError/TypeError from safe_load's constructors
        raise error(f"{what} holds a value YAML cannot read ({type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[:100]}){tail}") from None
