"""Store settings: where the MongoDB-protocol store is.

Resolution order: ``CONTACTFLOW_MONGO_URI`` (and ``CONTACTFLOW_DB``) in the environment, then
``$CONTACTFLOW_HOME/config.yaml`` (keys ``mongo_uri``, ``database``; must be mode 0600 when it holds a
secret: a password, or a secret query option such as ``tlsCertificateKeyFilePassword`` or an
``authMechanismProperties`` token), else the embedded SecantusDB server that contactflow starts itself.
"""

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit, urlunsplit

from contactflow.errors import ConfigError
from contactflow.paths import contactflow_home
from contactflow.yamlsafe import load_yaml_text

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


#: query options whose value is a secret (compared case-insensitively, as MongoDB drivers do)
SECRET_OPTIONS = frozenset(o.lower() for o in (
    "password", "tlsCertificateKeyFilePassword", "sslPEMKeyPassword", "sslClientCertificateKeyPassword",
    "tlsCertificateKeyPassword", "secret", "token",
))
#: an option or ``authMechanismProperties`` key with one of these in its name is treated as a secret too
_SECRET_WORDS = re.compile(r"pass(word|wd|phrase)?|pwd|secret|token|credential|api_?key|private", re.I)
#: ``authMechanismProperties`` keys that are not secrets (kept in messages; every other key is redacted)
_PUBLIC_MECH_KEYS = frozenset({"SERVICE_NAME", "SERVICE_REALM", "CANONICALIZE_HOST_NAME", "SERVICE_HOST",
                               "ENVIRONMENT", "TOKEN_RESOURCE", "ALLOWED_HOSTS"})
_URI_IN_TEXT = re.compile(r"mongodb(?:\+srv)?://[^\s'\"<>]+")
MASK = "***"


def _is_secret_option(key: str) -> bool:
    return key.lower() in SECRET_OPTIONS or bool(_SECRET_WORDS.search(key))


def _split_query(query: str) -> list[tuple[str, str, str]]:
    """``a=1&b=2`` → ``[(raw_pair, key, value), …]`` (``;`` also separates, as drivers accept)."""
    out = []
    for pair in re.split(r"[&;]", query):
        key, _, value = pair.partition("=")
        out.append((pair, unquote_plus(key), value))
    return out


def _mech_secrets(value: str) -> list[str]:
    """Secret values inside ``authMechanismProperties`` (``KEY:value,KEY:value``)."""
    out = []
    for prop in unquote_plus(value).split(","):
        k, sep, v = prop.partition(":")
        if sep and v and k.strip().upper() not in _PUBLIC_MECH_KEYS:
            out.append(v)
    return out


def uri_secrets(uri: str) -> list[str]:
    """Every secret a MongoDB URI carries: the password of its user info and the value of every
    secret-bearing query option (e.g. ``tlsCertificateKeyFilePassword``, the ``AWS_SESSION_TOKEN`` of
    ``authMechanismProperties``), each raw and percent-decoded, longest first.

    Parameters
    ----------
    uri
        A ``mongodb://`` or ``mongodb+srv://`` URI (any text is accepted).

    Returns
    -------
    list[str]
        The secret strings (empty when there are none).
    """
    secrets: set[str] = set()
    try:
        parts = urlsplit(uri)
        password = parts.password
    except ValueError:
        # not parseable as a URL: take everything between '://' and the last '@' as user info
        parts, password = None, None
        m = re.match(r"^[^:/]+://([^@/]*:)?(?P<pw>.*)@", uri)
        if m and m.group(1):
            password = m.group("pw")
    if password:
        secrets.update({password, unquote_plus(password)})
    query = parts.query if parts is not None else uri.partition("?")[2]
    for _, key, value in _split_query(query):
        if not value:
            continue
        if _is_secret_option(key):
            secrets.update({value, unquote_plus(value)})
        elif key.lower() == "authmechanismproperties":
            for v in _mech_secrets(value):
                secrets.update({v, quote_plus(v), quote(v, safe="")})
    return sorted((x for x in secrets if x), key=len, reverse=True)


def uri_has_secret(uri: str) -> bool:
    """True if the URI carries a password or a secret-bearing query option."""
    return bool(uri_secrets(uri))


def redact_uri(uri: str) -> str:
    """Return the URI with its password and every secret query option value replaced by ``***``
    (safe to print or log); the host, user name and other options are kept."""
    try:
        parts = urlsplit(uri)
        password = parts.password
    except ValueError:
        return _scrub(uri, uri_secrets(uri))
    netloc = parts.netloc
    if password is not None:
        netloc = netloc.replace(f":{password}@", f":{MASK}@", 1)
    pairs = []
    for raw, key, value in _split_query(parts.query) if parts.query else []:
        if value and _is_secret_option(key):
            pairs.append(f"{raw.partition('=')[0]}={MASK}")
        elif value and key.lower() == "authmechanismproperties":
            props = []
            for prop in unquote_plus(value).split(","):
                k, sep, v = prop.partition(":")
                props.append(f"{k}:{MASK}" if sep and v and k.strip().upper() not in _PUBLIC_MECH_KEYS else prop)
            pairs.append(f"{raw.partition('=')[0]}={quote(','.join(props), safe=':,*')}")
        else:
            pairs.append(raw)
    return urlunsplit(parts._replace(netloc=netloc, query="&".join(pairs)))


def redact_text(text: str, uri: str | None = None) -> str:
    """Return ``text`` with every secret removed: each secret of ``uri`` (see :func:`uri_secrets`) wherever
    it appears, and any MongoDB URI quoted in the text redacted by :func:`redact_uri`.

    This is the one function every message that may quote a URI or a driver error goes through.

    Parameters
    ----------
    text
        A message (e.g. a pymongo exception's text).
    uri
        The URI the message is about (its secrets are scrubbed even where the driver quotes them alone).

    Returns
    -------
    str
        The message, safe to print or log.
    """
    text = _URI_IN_TEXT.sub(lambda m: redact_uri(m.group(0)), str(text))
    return _scrub(text, uri_secrets(uri) if uri else [])


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def config_path() -> Path:
    """Path of the optional config file."""
    return contactflow_home() / "config.yaml"


def _read_config(path: Path) -> dict:
    if path.is_dir():
        raise ConfigError(f"config file {path} is a directory; remove it or make it a YAML file with keys "
                          f"{', '.join(CONFIG_KEYS)}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                          f"{exc.start}); save it as UTF-8 YAML with keys {', '.join(CONFIG_KEYS)}") from None
    data = load_yaml_text(text, f"config file {path}", ConfigError,
                          f"expected a mapping with keys {', '.join(CONFIG_KEYS)}, e.g. 'mongo_uri: mongodb://host:27017'")
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
    if uri and uri_has_secret(uri):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"config file {path} holds a secret (a password or a secret query option such as "
                f"tlsCertificateKeyFilePassword or an AWS session token) but has mode {oct(mode)}; run "
                f"'chmod 600 {path}' or pass the URI via CONTACTFLOW_MONGO_URI"
            )
    return data


#: characters MongoDB does not allow in a database name (any platform), and its length limit in bytes
_DB_BAD_CHARS = '/\\. "$*<>:|?\0'
_DB_MAX_BYTES = 63


def check_database_name(name: str, source: str) -> str:
    """Return ``name`` if MongoDB accepts it as a database name.

    Raises
    ------
    ConfigError
        Naming the offending character or the length, and the rule.
    """
    bad = sorted({c for c in name if c in _DB_BAD_CHARS or not c.isprintable()})
    rule = (f"a database name is 1-{_DB_MAX_BYTES} bytes without spaces or any of / \\ . \" $ * < > : | ?, "
            "e.g. 'contactflow' or 'anodes_2026'")
    if bad:
        raise ConfigError(f"invalid database name {name!r} from {source}: it contains {' '.join(map(repr, bad))}; {rule}")
    if not name or len(name.encode()) > _DB_MAX_BYTES:
        raise ConfigError(f"invalid database name {name!r} from {source}: {len(name.encode())} bytes; {rule}")
    return name


def _check_uri(uri: str, source: str) -> str:
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError(
            f"invalid MongoDB URI from {source}: {redact_uri(uri)!r}; it must start with mongodb:// or "
            "mongodb+srv:// (unset it to use the embedded store)"
        )
    return uri


def load_settings() -> StoreSettings:
    """Resolve the store settings from environment, config file, or embedded default.

    Raises
    ------
    ConfigError
        If ``CONTACTFLOW_HOME`` is unusable, the config file is unreadable or invalid, the URI is not a
        MongoDB URI, or the database name is one MongoDB refuses.
    """
    env_uri = os.environ.get("CONTACTFLOW_MONGO_URI", "").strip()
    env_db = os.environ.get("CONTACTFLOW_DB", "").strip()
    path = config_path()
    cfg = _read_config(path) if path.exists() else {}
    if env_db:
        database = check_database_name(env_db, "CONTACTFLOW_DB")
    else:
        database = check_database_name(cfg.get("database", DEFAULT_DB), f"config file {path}")
    if env_uri:
        return StoreSettings(_check_uri(env_uri, "CONTACTFLOW_MONGO_URI"), database, "env")
    if cfg.get("mongo_uri"):
        return StoreSettings(_check_uri(cfg["mongo_uri"], str(path)), database, f"config:{path}")
    return StoreSettings(None, database, "embedded")
