"""Store settings: environment vs config file, config validation, password hygiene."""

import os

import pytest

from contactflow.errors import ConfigError, ContactflowError
from contactflow.store import load_settings, redact_uri
from contactflow.store.settings import DEFAULT_DB, redact_text

PASSWORD = "s3cretPW"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty CONTACTFLOW_HOME with no URI in the environment."""
    monkeypatch.setenv("CONTACTFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("CONTACTFLOW_MONGO_URI", raising=False)
    monkeypatch.delenv("CONTACTFLOW_DB", raising=False)
    return tmp_path


def write_config(home, text: str, mode: int = 0o600):
    path = home / "config.yaml"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_no_config_means_embedded(home):
    s = load_settings()
    assert s.embedded and s.uri is None
    assert s.database == DEFAULT_DB and s.source == "embedded"


def test_config_file_uri_and_database(home):
    path = write_config(home, "mongo_uri: mongodb://db.example:27017/\ndatabase: anodes\n", 0o644)
    s = load_settings()
    assert not s.embedded
    assert s.uri == "mongodb://db.example:27017/"
    assert s.database == "anodes"
    assert s.source == f"config:{path}"


def test_env_uri_wins_over_config(home, monkeypatch):
    write_config(home, "mongo_uri: mongodb://from-config:27017/\ndatabase: cfgdb\n")
    monkeypatch.setenv("CONTACTFLOW_MONGO_URI", "mongodb://from-env:27018/")
    s = load_settings()
    assert s.uri == "mongodb://from-env:27018/"
    assert s.source == "env"
    assert s.database == "cfgdb"  # the config's database still applies when the env names none
    monkeypatch.setenv("CONTACTFLOW_DB", "envdb")
    assert load_settings().database == "envdb"


def test_config_database_only_keeps_embedded(home):
    write_config(home, "database: mine\n")
    s = load_settings()
    assert s.embedded and s.database == "mine"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mongo_uri: [unclosed\n", "not valid YAML (line"),
        ("- mongodb://a:1\n- mongodb://b:2\n", "must be a mapping"),
        ("just a string\n", "must be a mapping"),
        ("mongo_uri: mongodb://h:1/\npasswd: x\n", "unknown keys ['passwd']"),
        ("mongo_uri: 27017\n", "'mongo_uri' must be a string"),
        ("mongo_uri: http://h:1/\n", "must start with mongodb:// or mongodb+srv://"),
    ],
    ids=["corrupt-yaml", "list", "scalar", "unknown-key", "non-string", "bad-scheme"],
)
def test_bad_config_raises_config_error(home, text, expected):
    path = write_config(home, text)
    with pytest.raises(ConfigError) as err:
        load_settings()
    msg = str(err.value)
    assert expected in msg
    assert isinstance(err.value, ContactflowError)
    assert str(path) in msg  # names the file
    if expected in ("not valid YAML (line", "must be a mapping", "unknown keys ['passwd']"):
        assert "mongo_uri, database" in msg  # and the valid keys


def test_bad_env_uri_is_config_error_without_password(home, monkeypatch):
    monkeypatch.setenv("CONTACTFLOW_MONGO_URI", f"postgres://user:{PASSWORD}@db:5432/")
    with pytest.raises(ConfigError, match="CONTACTFLOW_MONGO_URI.*mongodb://") as err:
        load_settings()
    assert PASSWORD not in str(err.value)
    assert "user:***@" in str(err.value)


def test_config_with_password_must_be_private(home):
    path = write_config(home, f"mongo_uri: mongodb://user:{PASSWORD}@db:27017/\n", 0o644)
    with pytest.raises(ConfigError, match="holds a secret .*but has mode 0o644.*chmod 600") as err:
        load_settings()
    assert PASSWORD not in str(err.value)
    os.chmod(path, 0o600)
    s = load_settings()
    assert s.uri == f"mongodb://user:{PASSWORD}@db:27017/"
    # group-readable is refused too
    os.chmod(path, 0o640)
    with pytest.raises(ConfigError, match="0o640"):
        load_settings()


def test_config_without_password_may_be_world_readable(home):
    write_config(home, "mongo_uri: mongodb://user@db:27017/\n", 0o644)
    assert load_settings().uri == "mongodb://user@db:27017/"


@pytest.mark.parametrize(
    "uri, shown",
    [
        (f"mongodb://alice:{PASSWORD}@db:27017/x?authSource=admin", "mongodb://alice:***@db:27017/x?authSource=admin"),
        (f"mongodb+srv://alice:{PASSWORD}@cluster0.example.net/", "mongodb+srv://alice:***@cluster0.example.net/"),
        ("mongodb://alice:p%40ss@h1:1,h2:2/", "mongodb://alice:***@h1:1,h2:2/"),
        ("mongodb://alice@db:27017/", "mongodb://alice@db:27017/"),
        ("mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/"),
    ],
)
def test_redact_uri(uri, shown):
    assert redact_uri(uri) == shown


def test_redact_text_scrubs_raw_and_decoded_password():
    uri = "mongodb://alice:p%40ss@db:1/"
    assert redact_text("auth failed for p%40ss and p@ss", uri) == "auth failed for *** and ***"
    assert redact_text("nothing secret", "mongodb://db:1/") == "nothing secret"


# ------------------------------------------------------------------ issue 17: secrets in query options, bad config


from contactflow.store.settings import uri_has_secret, uri_secrets  # noqa: E402

SECRET_URIS = [
    # (uri, secrets that must never be printed)
    (f"mongodb://alice:{PASSWORD}@db:27017/?tls=true&tlsCertificateKeyFilePassword=k3yPW%21", [PASSWORD, "k3yPW!", "k3yPW%21"]),
    ("mongodb://AKIAEXAMPLE@db/?authMechanism=MONGODB-AWS&authMechanismProperties="
     "AWS_SESSION_TOKEN:FwoGZXIvYXdzEJr%2Fsess,SERVICE_NAME:mongodb", ["FwoGZXIvYXdzEJr/sess", "FwoGZXIvYXdzEJr%2Fsess"]),
    ("mongodb://db/?sslPEMKeyPassword=pemPW1&appname=x", ["pemPW1"]),
    ("mongodb://db/?myApiToken=tok123;authSource=admin", ["tok123"]),
    (f"mongodb://bob:{PASSWORD}@[::1:27017/", [PASSWORD]),  # unparseable host: the password still goes
]


@pytest.mark.parametrize("uri, secrets", SECRET_URIS)
def test_redaction_covers_user_info_and_secret_query_options(uri, secrets):
    shown = redact_uri(uri)
    message = redact_text(f"connection to {uri} failed: bad option value {secrets[-1]}", uri)
    for s in secrets:
        assert s not in shown and s not in message
        assert s in uri_secrets(uri) or s.replace("%21", "!") in uri_secrets(uri)
    assert "***" in shown and uri_has_secret(uri)
    assert "db" in shown  # the host stays, so the message is still useful


def test_redaction_keeps_public_options():
    uri = "mongodb://db/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:t0k,SERVICE_NAME:mongodb"
    assert redact_uri(uri).endswith("AWS_SESSION_TOKEN:***,SERVICE_NAME:mongodb")
    assert not uri_has_secret("mongodb://db:27017/?tls=true&tlsCertificateKeyFile=/etc/x.pem&authSource=admin")
    # any URI quoted inside a driver message is redacted even without knowing it
    assert redact_text("x mongodb://u:pw9@h/?a=1 y") == "x mongodb://u:***@h/?a=1 y"


@pytest.mark.parametrize("uri, secret", [
    ("mongodb://db:27017/?tlsCertificateKeyFilePassword=k3yPW", "k3yPW"),
    ("mongodb://db/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:t0ken", "t0ken"),
])
def test_config_with_a_secret_query_option_must_be_private(home, uri, secret):
    path = write_config(home, f"mongo_uri: '{uri}'\n", 0o644)
    with pytest.raises(ConfigError, match="holds a secret .*0o644.*chmod 600") as err:
        load_settings()
    assert secret not in str(err.value)
    os.chmod(path, 0o600)
    assert load_settings().uri == uri


def test_invalid_uri_error_does_not_echo_secret_options(home, monkeypatch):
    monkeypatch.setenv("CONTACTFLOW_MONGO_URI", "http://db/?tlsCertificateKeyFilePassword=k3yPW")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "k3yPW" not in str(err.value) and "tlsCertificateKeyFilePassword=***" in str(err.value)


def test_config_that_is_a_directory_or_not_utf8(home):
    (home / "config.yaml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings()
    (home / "config.yaml").rmdir()
    (home / "config.yaml").write_bytes(b"database: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"is not UTF-8 text \(byte 0xe9 at offset 13\)"):
        load_settings()
    (home / "config.yaml").write_text("database: 2026-02-30\n")
    with pytest.raises(ConfigError, match="holds a value YAML cannot read"):
        load_settings()


@pytest.mark.parametrize("name, fragment", [
    ("a.b", r"it contains '\.'"), ("a b", "it contains ' '"), ("x$y", r"it contains '\$'"), ("d" * 64, "64 bytes"),
])
def test_database_name_is_checked(home, monkeypatch, name, fragment):
    monkeypatch.setenv("CONTACTFLOW_DB", name)
    with pytest.raises(ConfigError, match=f"invalid database name .* from CONTACTFLOW_DB: {fragment}"):
        load_settings()
    monkeypatch.delenv("CONTACTFLOW_DB")
    write_config(home, f"database: '{name}'\n")
    with pytest.raises(ConfigError, match="invalid database name .* from config file"):
        load_settings()
