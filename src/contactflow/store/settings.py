"""Store settings: where the MongoDB-protocol store is.

Resolution order: ``CONTACTFLOW_MONGO_URI`` (and ``CONTACTFLOW_DB``) in the environment, then
``$CONTACTFLOW_HOME/config.yaml`` (keys ``mongo_uri``, ``database``; must be mode 0600 when it holds a
password), else the embedded SecantusDB server that contactflow starts itself.
"""

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import yaml

from contactflow.errors import ConfigError
from contactflow.paths import contactflow_home

CONFIG_KEYS = {"mongo_uri": str, "database": str}
DEFAULT_DB = "contactflow"


@dataclass(frozen=True)
class StoreSettings:
    """Resolved store location. ``uri`` is ``None`` for the embedded server."""

    uri: str | None
    database: str
    source: str  # "env", "config:<path>" or "embedded"

    @property
    def embedded(self) -> bool:
        """True when contactflow runs its own server."""
        return self.uri is None


def redact_uri(uri: str) -> str:
    """Return the URI with any password replaced by ``***`` (safe to print or log)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable URI>"
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def redact_text(text: str, uri: str) -> str:
    """Return ``text`` with the password of ``uri`` (raw and percent-decoded) replaced by ``***``."""
    try:
        password = urlsplit(uri).password
    except ValueError:
        return text
    if not password:
        return text
    for secret in {password, unquote_plus(password)}:
        text = text.replace(secret, "***")
    return text


def config_path() -> Path:
    """Path of the optional config file."""
    return contactflow_home() / "config.yaml"


def _read_config(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(
            f"config file {path} is not valid YAML{where}; expected a mapping with keys "
            f"{', '.join(CONFIG_KEYS)}, e.g. 'mongo_uri: mongodb://host:27017'"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must be a mapping with keys {', '.join(CONFIG_KEYS)}, got {type(data).__name__}"
        )
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"config file {path} has unknown keys {unknown}; valid keys: {', '.join(CONFIG_KEYS)}")
    for key, typ in CONFIG_KEYS.items():
        if key in data and not isinstance(data[key], typ):
            raise ConfigError(f"config file {path}: '{key}' must be a string")
    uri = data.get("mongo_uri")
    if uri and urlsplit(uri).password is not None:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"config file {path} holds a password but has mode {oct(mode)}; run 'chmod 600 {path}' "
                "or pass credentials via CONTACTFLOW_MONGO_URI"
            )
    return data


def _check_uri(uri: str, source: str) -> str:
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError(
            f"invalid MongoDB URI from {source}: {redact_uri(uri)!r}; it must start with mongodb:// or "
            "mongodb+srv:// (unset it to use the embedded store)"
        )
    return uri


def load_settings() -> StoreSettings:
    """Resolve the store settings from environment, config file, or embedded default."""
    env_uri = os.environ.get("CONTACTFLOW_MONGO_URI", "").strip()
    env_db = os.environ.get("CONTACTFLOW_DB", "").strip()
    path = config_path()
    cfg = _read_config(path) if path.exists() else {}
    if env_uri:
        return StoreSettings(_check_uri(env_uri, "CONTACTFLOW_MONGO_URI"), env_db or cfg.get("database", DEFAULT_DB), "env")
    if cfg.get("mongo_uri"):
        return StoreSettings(
            _check_uri(cfg["mongo_uri"], str(path)), env_db or cfg.get("database", DEFAULT_DB), f"config:{path}"
        )
    return StoreSettings(None, env_db or cfg.get("database", DEFAULT_DB), "embedded")
