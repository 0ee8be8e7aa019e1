"""Encryption of secrets at rest (power device and cloud credentials) with a Fernet key."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SecretKeyError(Exception):
    """The key that protects secrets is missing, unreadable or wrong."""


def create_key_file(path: Path) -> bool:
    """Create the key file (mode 0600) unless it exists; True if it was created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as key_file:
        key_file.write(Fernet.generate_key())
    return True


class SecretBox:
    """Encrypts and decrypts strings; the key is read once, at construction."""

    def __init__(self, key_file: Path) -> None:
        try:
            key = key_file.read_bytes().strip()
        except FileNotFoundError:
            raise SecretKeyError(
                f"secret key file {key_file} does not exist: run 'openstack aos configure'"
            ) from None
        except PermissionError:
            raise SecretKeyError(f"cannot read secret key file {key_file}") from None
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise SecretKeyError(f"secret key file {key_file} holds no valid key") from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored secret cannot be decrypted: the secret key differs from the one it "
                "was encrypted with"
            ) from None


REDACTED = "***"
