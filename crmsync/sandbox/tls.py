"""A throw-away self-signed certificate for serving sandboxes over https.

Some clients (simple-salesforce) only speak https; the certificate is valid for
``localhost`` and ``127.0.0.1`` and is written to a temporary directory whose
`cert_path` clients pass as ``verify=`` (or ``REQUESTS_CA_BUNDLE``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Certificate:
    """Paths of a PEM certificate and its private key."""

    cert_path: Path
    key_path: Path


def self_signed(directory: Path | None = None, days: int = 7) -> Certificate:
    """Make a CA-capable self-signed certificate for loopback names."""
    folder = directory or Path(tempfile.mkdtemp(prefix="crmsync-sandbox-tls-"))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crmsync sandbox")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "sandbox-cert.pem"
    key_path = folder / "sandbox-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return Certificate(cert_path=cert_path, key_path=key_path)
