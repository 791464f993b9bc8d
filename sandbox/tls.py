"""A self-signed certificate for the sandboxes' HTTPS listener.

MSAL only accepts https authorities (§1.2a of sandbox/dataverse/README.md), so the
identity endpoint must speak TLS. The CA bundle written next to the certificate holds the
system CAs plus this certificate: point a client's `verify=` (or REQUESTS_CA_BUNDLE) at it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Certificate:
    certfile: Path
    keyfile: Path
    ca_bundle: Path


def certificate_ensure(directory: Path) -> Certificate:
    """Create (once) a certificate for localhost/127.0.0.1 in directory; return its paths."""
    directory.mkdir(parents=True, exist_ok=True)
    cert = Certificate(
        directory / "sandbox-cert.pem",
        directory / "sandbox-key.pem",
        directory / "sandbox-ca-bundle.pem",
    )
    if cert.certfile.exists() and cert.keyfile.exists() and cert.ca_bundle.exists():
        return cert
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syncadmin sandbox")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    cert.keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert.keyfile.chmod(0o600)
    cert.certfile.write_bytes(pem)
    cert.ca_bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + pem)
    return cert
