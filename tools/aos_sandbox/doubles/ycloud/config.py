"""Fixed identities and file names of the Yandex double, shared by the server and the launcher.

Stdlib only: the caller of `doubles.start()` reads these without the doubles venv.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_PORT = 15001
CLOUD_ID = "b1gaossandbox00cloud"
FOLDER_ID = "b1gaossandbox00fold0"
STANDARD_IMAGES_FOLDER_ID = "standard-images"
SERVICE_ACCOUNT_ID = "ajeaossandbox00sa000"
SERVICE_ACCOUNT_KEY_ID = "ajeaossandbox00key00"
# Accepted as a Bearer token without an IAM exchange (handy for grpcurl and debugging).
STATIC_IAM_TOKEN = "t1.aos-sandbox-static-token"
ZONES = ("ru-central1-a", "ru-central1-b", "ru-central1-d")
DEFAULT_ZONE = "ru-central1-a"
REGION = "ru-central1"


def files_dir(state_dir: Path) -> Path:
    return state_dir / "yandex"


def ca_file(state_dir: Path) -> Path:
    """Self-signed certificate of the server; clients pass it as root_certificates."""
    return files_dir(state_dir) / "ca.pem"


def server_key_file(state_dir: Path) -> Path:
    return files_dir(state_dir) / "server-key.pem"


def sa_key_file(state_dir: Path) -> Path:
    """Service-account authorized key (Yandex JSON format) that the fake IAM accepts."""
    return files_dir(state_dir) / "sa-key.json"
