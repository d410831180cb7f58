"""EST (RFC 7030) through the real stack: nginx with mutual TLS, a Celery worker process that
signs, Redis and PostgreSQL; curl and openssl as a supplier's software uses them, and the
supplier script shipped with the portal (static/est/est-renew.sh)."""

from __future__ import annotations

import base64
import os
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.utils import timezone

from ca.models import Certificate, CertificateAuthority
from config.celery import app as celery_app
from enrollment.models import Channel, Enrollment, EnrollmentStatus, InstallCode, RefusedAddress
from tests.enrollment.factories import issue_holder, make_policy
from tests.enrollment.wizard_client import WizardWalker
from tests.fixtures.ca import BIN, certificate_of, order_for
from tests.fixtures.services import require_binary
from tests.fixtures.stack import ServerTls

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "static" / "est" / "est-renew.sh"


@dataclass
class Answer:
    status: int
    headers: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Curl:
    """curl against nginx, from a loopback address of the test's choosing."""

    def __init__(self, base: str, tls: ServerTls, folder: Path) -> None:
        self.base, self.tls, self.folder = base, tls, folder
        self.curl = require_binary("curl")

    def __call__(
        self,
        path: str,
        *,
        body: bytes | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        user: str | None = None,
        source: str = "127.0.0.1",
    ) -> Answer:
        headers, out = self.folder / "headers", self.folder / "body"
        argv = [self.curl, "--silent", "--max-time", "30", "--cacert", str(self.tls.ca_pem)]
        argv += ["--interface", source, "-D", str(headers), "-o", str(out), "-w", "%{http_code}"]
        if cert is not None and key is not None:
            argv += ["--cert", str(cert), "--key", str(key)]
        if user is not None:
            argv += ["--user", user]
        if body is not None:
            request = self.folder / "request.b64"
            request.write_bytes(body)
            argv += ["-H", "Content-Type: application/pkcs10", "--data-binary", f"@{request}"]
        result = subprocess.run(
            [*argv, f"{self.base}{path}"], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return Answer(int(result.stdout), headers.read_text(), out.read_bytes())

    def until_issued(self, path: str, **kwargs: Any) -> Answer:
        """Repeat the request while it answers 202, waiting what Retry-After says."""
        deadline = time.monotonic() + 180
        while True:
            answer = self(path, **kwargs)
            if answer.status != 202:
                return answer
            assert "Retry-After: 2" in answer.headers.replace("retry-after", "Retry-After")
            assert time.monotonic() < deadline, "still 202 after three minutes"
            time.sleep(2)  # as Retry-After says, as a client does


def openssl(*args: str, input: bytes | None = None) -> bytes:
    result = subprocess.run(
        [require_binary("openssl"), *args], input=input, capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def print_certs(base64_pkcs7: bytes) -> bytes:
    """What a supplier does with an EST answer: base64, then PKCS#7, then PEM."""
    der = openssl("base64", "-d", input=base64_pkcs7)
    return openssl("pkcs7", "-inform", "DER", "-print_certs", input=der)


def verify_chain(certificate: Path, root: Path, cacerts: Path) -> None:
    """openssl's strict check, for TLS client authentication, up to the portal's root."""
    openssl(
        "verify",
        "-x509_strict",
        "-purpose",
        "sslclient",
        "-CAfile",
        str(root),
        "-untrusted",
        str(cacerts),
        str(certificate),
    )


def assert_lints_clean(certificate: Path) -> None:
    """pkilint, as the CA's own pre-issuance lint does, on what the client received."""
    one = certificate.with_suffix(".lint.pem")
    one.write_bytes(openssl("x509", "-in", str(certificate)))
    lint = subprocess.run(
        [str(BIN / "lint_pkix_cert"), "lint", "-s", "WARNING", str(one)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def new_key(folder: Path, name: str) -> tuple[Path, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    path = folder / f"{name}.key"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path, key


def csr(key: ec.EllipticCurvePrivateKey, subject: x509.Name | None = None) -> bytes:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject or x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    return base64.encodebytes(request.public_bytes(serialization.Encoding.DER))


def system_enrollment(name: str = "Koppeling") -> tuple[Enrollment, str]:
    """A system holder of 127.0.0.1 through the wizard, and the install code of step 7."""
    make_policy()
    holder, pin = issue_holder("system", name=name, allowed_networks="127.0.0.1/32")
    walker = WizardWalker(Client(), "system")
    assert walker.complete(holder.user_number, pin, name="EST-1").status_code == 302
    enrollment = Enrollment.objects.get(holder=holder)
    return enrollment, InstallCode.objects.mint(enrollment)


@pytest.fixture
def est(nginx: str, server_tls: ServerTls, tmp_path: Path, settings: Any) -> Curl:
    require_binary("openssl")
    # Every request comes from 127.0.0.1, and the shared Redis keeps the counts of the other
    # tests of this minute: the rate limits are not what these tests are about.
    settings.API_SUBMIT_RATE_PER_ADDRESS = "1000/m"
    folder = tmp_path / "curl"
    folder.mkdir()
    return Curl(nginx, server_tls, folder)


@pytest.fixture
def root_pem(hierarchy: CertificateAuthority, tmp_path: Path) -> Path:
    root = CertificateAuthority.objects.current_root()
    assert root is not None
    path = tmp_path / "root.pem"
    path.write_text(root.pem)
    return path


@dataclass
class Enrolled:
    enrollment: Enrollment
    code: str
    cert: Path
    key: Path


def enroll(est: Curl, folder: Path, name: str = "Koppeling") -> Enrolled:
    """simpleenroll with a new key: the enrollment, its install code, the certificate's and
    the key's files."""
    enrollment, code = system_enrollment(name)
    key_path, key = new_key(folder, name)
    answer = est.until_issued(
        "/.well-known/est/simpleenroll", body=csr(key), user=f"software:{code}"
    )
    assert answer.status == 200, answer.text
    cert_path = folder / f"{name}.pem"
    cert_path.write_bytes(openssl("x509", input=print_certs(answer.body)))  # the one certificate
    return Enrolled(enrollment, code, cert_path, key_path)


def test_est_enrolls_and_renews_a_system_certificate_through_nginx(
    est: Curl,
    workers: Any,
    root_pem: Path,
    tmp_path: Path,
    settings: Any,
) -> None:
    workers.start("est-worker")
    settings.RENEWAL_WINDOW_DAYS = 5 * 365  # the worker issues for three years

    # cacerts: no authentication; openssl reads it as a supplier would.
    answer = est("/.well-known/est/cacerts")
    assert answer.status == 200
    assert "application/pkcs7-mime; smime-type=certs-only" in answer.headers
    cacerts = tmp_path / "cacerts.pem"
    cacerts.write_bytes(print_certs(answer.body))
    assert cacerts.read_text().count("BEGIN CERTIFICATE") == 2

    # simpleenroll with the install code as HTTP Basic password; the worker signs.
    enrolled = enroll(est, tmp_path)
    enrollment, cert_path, key_path = enrolled.enrollment, enrolled.cert, enrolled.key
    verify_chain(cert_path, root_pem, cacerts)
    assert_lints_clean(cert_path)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.INSTALLED

    # simplereenroll with that certificate over mutual TLS, the subject copied by openssl.
    new_key_path, _key = new_key(tmp_path, "renewed")
    request_pem = openssl(
        "x509", "-x509toreq", "-in", str(cert_path), "-signkey", str(new_key_path)
    )
    request_der = openssl("req", "-outform", "DER", input=request_pem)
    answer = est.until_issued(
        "/.well-known/est/simplereenroll",
        body=base64.encodebytes(request_der),
        cert=cert_path,
        key=key_path,
    )
    assert answer.status == 200, answer.text
    renewed_path = tmp_path / "renewed.pem"
    renewed_path.write_bytes(print_certs(answer.body))
    renewed = x509.load_pem_x509_certificate(renewed_path.read_bytes())
    current = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert renewed.subject == current.subject and renewed.serial_number != current.serial_number
    verify_chain(renewed_path, root_pem, cacerts)
    assert_lints_clean(renewed_path)
    renewal = Enrollment.objects.get(channel=Channel.EST)
    assert renewal.renews == certificate_of(enrollment)
    # Both work through the overlap.
    for cert, key in ((cert_path, key_path), (renewed_path, new_key_path)):
        assert est("/api/v1/system/whoami", cert=cert, key=key).status == 200

    # A changed subject is refused; so is the same renewal for another key.
    _other_path, other = new_key(tmp_path, "other")
    for body, status, code in (
        (csr(other, x509.Name([])), 400, "subject_changed"),
        (csr(other, current.subject), 409, "already_renewed"),
        (b"bm90IGEgQ1NS\n", 400, "csr_malformed"),
    ):
        answer = est("/.well-known/est/simplereenroll", body=body, cert=cert_path, key=key_path)
        assert (answer.status, answer.text.split(":")[0]) == (status, code), answer.text
    assert Certificate.objects.count() == 2


def test_est_refuses_what_it_must_through_nginx(
    est: Curl, workers: Any, root_pem: Path, tmp_path: Path, settings: Any
) -> None:
    workers.start("est-refusals-worker")
    settings.RENEWAL_WINDOW_DAYS = 5 * 365
    enrolled = enroll(est, tmp_path, "Koppeling")
    cert_path, key_path = enrolled.cert, enrolled.key
    subject = x509.load_pem_x509_certificate(cert_path.read_bytes()).subject
    _other_path, key = new_key(tmp_path, "next")

    # A replayed install code, with another key.
    replay = est("/.well-known/est/simpleenroll", body=csr(key), user=f"x:{enrolled.code}")
    assert (replay.status, replay.text.split(":")[0]) == (403, "install_code_used"), replay.text

    # An address outside the holder's ranges: refused and recorded.
    outside = est(
        "/.well-known/est/simplereenroll",
        body=csr(key, subject),
        cert=cert_path,
        key=key_path,
        source="127.0.0.2",
    )
    assert (outside.status, outside.text.split(":")[0]) == (403, "address_not_allowed")
    assert RefusedAddress.objects.filter(address="127.0.0.2").exists()

    # Another holder's certificate cannot renew this holder's: the subject would change.
    second = enroll(est, tmp_path, "Tweede")
    foreign = est(
        "/.well-known/est/simplereenroll", body=csr(key, subject), cert=second.cert, key=second.key
    )
    assert (foreign.status, foreign.text.split(":")[0]) == (400, "subject_changed")

    # A personal certificate, signed by the worker.
    holder, _pin = issue_holder("personal", name="A. Janssen")
    personal = Enrollment.objects.create(
        holder=holder,
        kind="personal",
        activation_code=holder.activation_codes.first(),
        email="a.janssen@example.org",
        certificate_name="PC",
        password_hash="hashed",
        expires_at=timezone.now() + timedelta(days=30),
    )
    personal_key_path, personal_key = new_key(tmp_path, "personal")
    order_for(personal, base64.b64decode(csr(personal_key)))
    personal_cert = tmp_path / "personal.pem"
    personal_cert.write_text(wait_for_certificate(personal).pem)
    answer = est(
        "/.well-known/est/simplereenroll",
        body=csr(key, subject),
        cert=personal_cert,
        key=personal_key_path,
    )
    assert (answer.status, answer.text.split(":")[0]) == (403, "personal_certificate")

    # An expired certificate (signed here, a year and a day ago, as the worker would).
    expired_cert, expired_key = expired_system_certificate(tmp_path, settings)
    answer = est(
        "/.well-known/est/simplereenroll",
        body=csr(key, subject),
        cert=expired_cert,
        key=expired_key,
    )
    assert (answer.status, answer.text.split(":")[0]) == (403, "certificate_expired"), answer.text
    assert not Enrollment.objects.filter(channel=Channel.EST).exists()


def wait_for_certificate(enrollment: Enrollment) -> Certificate:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        enrollment.refresh_from_db()
        found = Certificate.objects.filter(reference=enrollment.public_id).first()
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError("the worker did not sign")


def expired_system_certificate(folder: Path, settings: Any) -> tuple[Path, Path]:
    enrollment, _code = system_enrollment("Verlopen")
    key_path, key = new_key(folder, "expired")
    settings.CA_CERT_VALIDITY_DAYS = 365
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with time_machine.travel(timezone.now() - timedelta(days=366)):
            order_for(enrollment, base64.b64decode(csr(key)))
    finally:
        celery_app.conf.task_always_eager = previous
    path = folder / "expired.pem"
    path.write_text(wait_for_certificate(enrollment).pem)
    return path, key_path


def run_script(
    folder: Path, nginx: str, tls: ServerTls, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "sh",
            str(SCRIPT),
            "--portal",
            nginx,
            "--dir",
            str(folder),
            "--server-ca",
            str(tls.ca_pem),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={"PATH": os.environ["PATH"], "HOME": str(folder)},
        cwd=folder,
        stdin=subprocess.DEVNULL,
    )


def test_the_supplier_script_renews_once_keeps_the_old_files_and_says_why_it_stops(
    est: Curl, nginx: str, server_tls: ServerTls, workers: Any, root_pem: Path, tmp_path: Path
) -> None:
    require_binary("sh")
    # Certificates of 40 days: not due for the script's 30 days, inside the portal's 60.
    workers.start("est-script-worker", CA_CERT_VALIDITY_DAYS="40")
    enrolled = enroll(est, tmp_path)
    cert_path, key_path = enrolled.cert, enrolled.key
    software = tmp_path / "software"
    software.mkdir()
    for name, source in (
        ("certificate.pem", cert_path),
        ("key.pem", key_path),
        ("root.pem", root_pem),
    ):
        (software / name).write_bytes(source.read_bytes())
    (software / "chain.pem").write_bytes(cert_path.read_bytes())

    not_due = run_script(software, nginx, server_tls)
    assert not_due.returncode == 0, not_due.stderr
    assert "not due" in not_due.stdout

    renewed = run_script(
        software, nginx, server_tls, "--force", "--reload-command", "touch reloaded"
    )
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr + workers.logs()
    assert "renewed: serial" in renewed.stdout
    assert (software / "reloaded").exists()  # the reload command ran, after the swap
    assert (software / "certificate.pem.previous").read_bytes() == cert_path.read_bytes()
    assert not (software / "key.pem.next").exists()
    new = x509.load_pem_x509_certificate((software / "certificate.pem").read_bytes())
    assert new.subject == x509.load_pem_x509_certificate(cert_path.read_bytes()).subject
    assert (software / "chain.pem").read_text().count("BEGIN CERTIFICATE") == 2
    assert (
        est("/api/v1/system/whoami", cert=software / "chain.pem", key=software / "key.pem").status
        == 200
    )

    # From cron, again: nothing to do, nothing changes.
    before = (software / "certificate.pem").read_bytes()
    again = run_script(software, nginx, server_tls)
    assert again.returncode == 0 and "not due" in again.stdout
    assert (software / "certificate.pem").read_bytes() == before

    # The old certificate cannot renew a second time: exit 2 with the portal's reason, and
    # the folder it works on is left as it was.
    stale = tmp_path / "stale"
    stale.mkdir()
    for name in ("certificate.pem", "key.pem", "chain.pem"):
        (stale / name).write_bytes((software / f"{name}.previous").read_bytes())
    (stale / "root.pem").write_bytes(root_pem.read_bytes())
    refused = run_script(stale, nginx, server_tls, "--force")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "already_renewed" in refused.stderr
    assert (stale / "certificate.pem").read_bytes() == cert_path.read_bytes()
    assert Certificate.objects.count() == 2
