"""The deployment's secrets: given to the cluster, made by the embedded mode on first start.

Each secret fills one ``Settings`` field. The cluster reads them from ``SCHOOLGATE_*``
environment variables (a Kubernetes Secret) and refuses to start without the ones every
process must share. The embedded mode keeps each in its own file under
``<data_dir>/secrets/``, readable by its owner only, made the first time it is wanted: one
file per secret, so that a secret added later is made beside the old ones without
rewriting them. Adding a secret is one line in ``SECRETS``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import SecretStr

from schoolgate_kit.settings import Settings

S = TypeVar("S", bound=Settings)


def random_token() -> str:
    return secrets.token_urlsafe(48)


@dataclass(frozen=True)
class Secret:
    field: str
    """The ``Settings`` field it fills; its environment variable is SCHOOLGATE_<FIELD>."""
    make: Callable[[], str] = random_token
    shared: bool = True
    """Every process of a cluster must hold the same value, so none may start without it."""

    @property
    def variable(self) -> str:
        return f"SCHOOLGATE_{self.field.upper()}"


SECRETS: tuple[Secret, ...] = (
    Secret("identity_secret"),
    Secret("master_key"),
    Secret("metrics_token", shared=False),
)


class MissingSecrets(SystemExit):
    """Raised by a cluster entrypoint that was not given its secrets: a one-line reason."""


def require_secrets(settings: Settings) -> None:
    """A cluster process starts only with the secrets every process must share."""
    missing = [s.variable for s in SECRETS if s.shared and s.field not in settings.model_fields_set]
    if missing:
        raise MissingSecrets(
            f"{', '.join(missing)} not set: every process of a cluster needs the same value,"
            " from the deployment's Secret (see deploy/k8s/secret.example.yaml)"
        )


def with_data_dir_secrets(settings: S) -> S:
    """The embedded mode's settings, with each secret not given in the environment read from
    the data directory, where it is made on first start."""
    wanted = [s for s in SECRETS if s.field not in settings.model_fields_set]
    if not wanted:
        return settings
    folder = private_folder(settings.data_dir) / "secrets"
    private_folder(folder)
    values = {s.field: SecretStr(read_or_create(folder / s.field, s.make)) for s in wanted}
    return settings.model_copy(update=values)


def private_folder(path: Path) -> Path:
    """The folder, made if need be, readable by its owner only: it holds the school's data."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o700)
    return path


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The secret in ``path``, made now if there is none. Two processes starting at once
    agree: each writes a whole candidate to a file of its own and links it into place, which
    succeeds for exactly one of them; the other reads the winner's. Nobody ever reads a
    half-written secret."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(make())
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process's came first
            os.link(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise PermissionError(
            f"{path} can be read by others than its owner: make a new secret"
            " (delete the file) or chmod 600 it if nobody else could have read it"
        )
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ValueError(f"{path} is empty: delete it and a new secret is made")
    return value
