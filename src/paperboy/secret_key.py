"""The instance's secret key: it signs CSRF tokens, password-reset links and mail links.

It is generated on first run and kept in ``<data_dir>/secret_key`` (mode 0600); there is no
default, so two instances never share a key by accident. It lives below every layer because the
web app and the mail service both sign with it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE = "secret_key"


def load_secret_key(data_dir: Path) -> str:
    """The instance's secret key, created (0600, atomically) on first use."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 32:
            raise RuntimeError(f"{path}: secret key is too short; delete the file to regenerate")
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
