# SPDX-License-Identifier: Apache-2.0
"""File names for one patient's output that carry no PHI and cannot be reversed by trying ids.

An unkeyed hash of "Patient/4711093" is the MRN to anyone who hashes the ten million 7-digit
numbers (seconds); HIPAA §164.514(c) asks that a re-identification code not be derived from the
individual's information. The name is therefore an HMAC under a per-installation secret: the sync
job's pseudonym key (beside its state), else the key `evaluate --out DIR/` and `report --html DIR/`
keep in the user's configuration folder. The same key gives the same names, so a rerun overwrites
its own files instead of adding new ones.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ..errors import ConfigError

#: environment variable holding the key itself (a deployment's secret store), else
NAME_KEY_ENV = "POEMS_FHIR_NAME_KEY"
#: ... a file holding it (created on first use)
NAME_KEY_FILE_ENV = "POEMS_FHIR_NAME_KEY_FILE"


def patient_file_name(patient: str, key: bytes, suffix: str = ".json") -> str:
    """``poems-<24 hex>.json``: the patient reference under ``key`` (HMAC-SHA256)."""
    digest = hmac.new(key, patient.encode("utf-8"), hashlib.sha256).hexdigest()[:24]
    return f"poems-{digest}{suffix}"


def default_key_file() -> Path:
    """``$XDG_CONFIG_HOME/poems-fhir/file-name.key`` (``~/.config`` when unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "poems-fhir" / "file-name.key"


def name_key() -> bytes:
    """The key of the file names: ``POEMS_FHIR_NAME_KEY``, else the file ``POEMS_FHIR_NAME_KEY_FILE``
    names, else :func:`default_key_file` - created (mode 0600, its folder 0700) on first use."""
    if os.environ.get(NAME_KEY_ENV):
        return os.environ[NAME_KEY_ENV].encode("utf-8")
    given = os.environ.get(NAME_KEY_FILE_ENV)
    path = Path(given) if given else default_key_file()
    try:
        key = path.read_bytes().strip()
        if key:
            return key
        raise ConfigError(f"the file-name key {path} is empty: delete it (a new one is made) or fill it")
    except FileNotFoundError:
        if given:
            raise ConfigError(
                f"file-name key {path} ({NAME_KEY_FILE_ENV}) does not exist: create it "
                "(e.g. head -c 32 /dev/urandom | base64 > FILE) or unset the variable"
            ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the file-name key {path}: {exc.strerror}; set {NAME_KEY_FILE_ENV} to a readable "
            f"file or {NAME_KEY_ENV} to a secret"
        ) from None
    return _create(path)


def _create(path: Path) -> bytes:
    key = secrets.token_hex(32).encode("ascii")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot create the file-name key {path}: {exc.strerror}; set {NAME_KEY_FILE_ENV} to a writable "
            f"file or {NAME_KEY_ENV} to a secret"
        ) from None
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key
