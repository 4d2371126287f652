"""``CONTACTFLOW_HOME`` that cannot be the state directory is a ConfigError naming why, not a traceback."""

import os
from pathlib import Path

import pytest

from contactflow.errors import ConfigError
from contactflow.paths import contactflow_home


def _unwritable_dir(tmp_path: Path) -> Path:
    """A directory this process cannot write in (for root: sysfs, which refuses even root)."""
    if os.geteuid() != 0:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o500)
        return d
    d = Path("/sys/kernel")
    if not d.is_dir() or os.access(d, os.W_OK) and _can_write(d):
        pytest.skip("no directory here that root cannot write")
    return d


def _can_write(d: Path) -> bool:
    try:
        (d / ".cf-probe").touch()
    except OSError:
        return False
    (d / ".cf-probe").unlink()
    return True


def test_home_is_created_0700(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTACTFLOW_HOME", str(tmp_path / "a" / "b"))
    home = contactflow_home()
    assert home.is_dir() and (home.stat().st_mode & 0o777) == 0o700


@pytest.mark.parametrize("case", ["file", "under_file", "not_writable"])
def test_unusable_home_is_a_config_error(tmp_path, monkeypatch, case):
    f = tmp_path / "plain_file"
    f.write_text("x")
    home, fragment = {
        "file": (f, "is a file, not a directory"),
        "under_file": (f / "sub" / "home", f"lies under {f}, which is a file"),
        "not_writable": (None, "not writable"),
    }[case]
    if home is None:
        home = _unwritable_dir(tmp_path)
    monkeypatch.setenv("CONTACTFLOW_HOME", str(home))
    with pytest.raises(ConfigError, match=fragment) as err:
        contactflow_home()
    assert "set CONTACTFLOW_HOME to a writable directory" in str(err.value)
