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
