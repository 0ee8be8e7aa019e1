"""TLS certificate and service-account key of the Yandex double, generated once per state dir.

The SDK always talks TLS (endpoint discovery included), so the server needs a certificate for
127.0.0.1 that clients can trust via `root_certificates`.  The service-account key is the
pre-registered identity whose JWTs the fake IAM accepts.  Both are kept across restarts so
clients holding the files keep working.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from . import config


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def ensure_tls(state_dir: Path, host: str) -> tuple[bytes, bytes]:
    """Return (certificate PEM, key PEM); create a self-signed pair for `host` if missing."""
    cert_path, key_path = config.ca_file(state_dir), config.server_key_file(state_dir)
    if cert_path.exists() and key_path.exists():
        return cert_path.read_bytes(), key_path.read_bytes()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aos-sandbox yandex double")])
    now = datetime.datetime.now(datetime.UTC)
    sans: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    if host not in ("127.0.0.1", "localhost"):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    _write_private(key_path, key_pem)
    _write_private(cert_path, cert_pem)
    return cert_pem, key_pem


def ensure_service_account_key(state_dir: Path) -> dict[str, str]:
    """Return the authorized key (Yandex JSON format); create it if missing."""
    path = config.sa_key_file(state_dir)
    if path.exists():
        return json.loads(path.read_text())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    document = {
        "id": config.SERVICE_ACCOUNT_KEY_ID,
        "service_account_id": config.SERVICE_ACCOUNT_ID,
        "created_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "key_algorithm": "RSA_2048",
        "public_key": key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        "private_key": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    }
    _write_private(path, json.dumps(document, indent=2).encode())
    return document
