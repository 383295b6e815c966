"""The county's digital signature on the ledger PDFs (PAdES, a CMS signature by pyHanko).

The county's certificate and key come from settings (``LEDGER_SIGNING_CERT``,
``LEDGER_SIGNING_KEY``, the key's passphrase from the environment's
``LEDGER_SIGNING_KEY_PASSPHRASE``). Without them the system makes itself a key pair and a
self-signed certificate (CN 大姚县人力资源和社会保障局) in the data folder on first use:
a PDF changed after signing no longer verifies either way; only trust in the signer
differs (a reader trusts the county's certificate, not a self-made one).
"""

import datetime
import io
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SIGNER_NAME = "大姚县人力资源和社会保障局"
GENERATED_DIR_NAME = "ledger_signing"
KEY_FILE, CERT_FILE = "key.pem", "cert.pem"


def signing_files() -> tuple[Path, Path, bytes | None]:
    """The key file, the certificate file and the key's passphrase to sign with."""
    key, cert = settings.LEDGER_SIGNING_KEY, settings.LEDGER_SIGNING_CERT
    if key or cert:
        if not (key and cert):
            raise ImproperlyConfigured("LEDGER_SIGNING_KEY 和 LEDGER_SIGNING_CERT 须同时配置。")
        passphrase = settings.LEDGER_SIGNING_KEY_PASSPHRASE
        return Path(key), Path(cert), passphrase.encode() if passphrase else None
    folder = Path(settings.DATA_DIR) / GENERATED_DIR_NAME
    if not (folder / CERT_FILE).exists():
        _generate_into(folder)
    return folder / KEY_FILE, folder / CERT_FILE, None


def _generate_into(folder: Path) -> None:
    """A key pair and a self-signed certificate, written whole or not at all.

    Made in a folder of its own and renamed into place: two processes signing their first
    ledger at once keep the pair of whichever came first, never a key of one with the
    certificate of the other.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, SIGNER_NAME),
            x509.NameAttribute(NameOID.COMMON_NAME, SIGNER_NAME),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ledger_signing-", dir=folder.parent))
    try:
        key_bytes = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(staging / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(key_bytes)
        (staging / CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        try:
            staging.rename(folder)
        except OSError:
            if not (folder / CERT_FILE).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def pdf_sign(data: bytes, *, reason: str) -> bytes:
    """The PDF with the county's signature over all of it (an incremental update)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    key_file, cert_file, passphrase = signing_files()
    signer = signers.SimpleSigner.load(str(key_file), str(cert_file), key_passphrase=passphrase)
    if signer is None:
        raise ImproperlyConfigured("无法读取台账签名证书或私钥，请检查配置。")
    meta = signers.PdfSignatureMetadata(
        field_name="county_signature",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location="云南省楚雄州大姚县",
        name=SIGNER_NAME,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    return signers.sign_pdf(writer, meta, signer=signer).getvalue()
