"""The embedded mode's secrets: made on first start, kept owner-only in the data directory,
the same for every process that starts beside it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from schoolgate_kit.keys import SECRETS, with_data_dir_secrets
from schoolgate_kit.settings import Settings


@pytest.fixture(autouse=True)
def no_secrets_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for secret in SECRETS:
        monkeypatch.delenv(secret.variable, raising=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_first_start_makes_each_secret_readable_by_its_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "var"
    settings = with_data_dir_secrets(Settings(data_dir=data))
    assert mode(data) == 0o700 and mode(data / "secrets") == 0o700
    for secret in SECRETS:
        kept = data / "secrets" / secret.field
        assert mode(kept) == 0o600
        value = getattr(settings, secret.field)
        assert isinstance(value, SecretStr) and value.get_secret_value() == kept.read_text()
        assert len(value.get_secret_value()) >= 32
    assert not [p for p in (data / "secrets").iterdir() if p.name.startswith(".")]


def test_a_later_start_reads_the_same_secrets(tmp_path: Path) -> None:
    first = with_data_dir_secrets(Settings(data_dir=tmp_path))
    again = with_data_dir_secrets(Settings(data_dir=tmp_path))
    assert first.identity_secret == again.identity_secret
    assert first.metrics_token == again.metrics_token


def test_a_data_directory_others_could_read_is_made_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    with_data_dir_secrets(Settings(data_dir=data))
    assert mode(data) == 0o700


def test_a_secret_given_in_the_environment_wins_and_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHOOLGATE_IDENTITY_SECRET", "from-the-operator-" + "o" * 30)
    settings = with_data_dir_secrets(Settings(data_dir=tmp_path))
    assert settings.identity_secret.get_secret_value() == "from-the-operator-" + "o" * 30
    assert not (tmp_path / "secrets" / "identity_secret").exists()


def test_a_secret_file_others_could_read_is_refused(tmp_path: Path) -> None:
    with_data_dir_secrets(Settings(data_dir=tmp_path))
    (tmp_path / "secrets" / "identity_secret").chmod(0o644)
    with pytest.raises(PermissionError, match="identity_secret"):
        with_data_dir_secrets(Settings(data_dir=tmp_path))


PROCESS = """
import sys
from schoolgate_kit.keys import with_data_dir_secrets
from schoolgate_kit.settings import Settings
sys.stdin.readline()  # start together
s = with_data_dir_secrets(Settings(data_dir=sys.argv[1]))
print(*(getattr(s, field).get_secret_value() for field in sys.argv[2:]))
"""


def test_processes_starting_at_once_agree_on_the_secrets(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROCESS, str(tmp_path / "var"), *(s.field for s in SECRETS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    for process in processes:  # they are all waiting; let them go as one
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    answers = [process.communicate(timeout=120)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert len(set(answers)) == 1, json.dumps(answers)
    kept = tmp_path / "var" / "secrets"
    assert answers[0].split() == [(kept / s.field).read_text() for s in SECRETS]


def test_a_secret_made_while_another_process_made_it_first_is_the_others(
    tmp_path: Path,
) -> None:
    """The race itself, made certain: the other process links its secret into place between
    this one's look and its own link."""
    from schoolgate_kit.keys import read_or_create

    path = tmp_path / "identity_secret"

    def make_after_the_other() -> str:
        path.write_text("the-other-process-" + "w" * 30)
        path.chmod(0o600)
        return "this-process-" + "l" * 30

    assert read_or_create(path, make_after_the_other) == "the-other-process-" + "w" * 30
    assert [p.name for p in tmp_path.iterdir()] == ["identity_secret"]
