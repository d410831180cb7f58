"""The CSR policy: what is accepted, what is refused with which code, and nothing else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ca.csr_policy import CSR_ERRORS, MAX_CSR_BYTES, CsrRejected, check_csr
from ca.models import Order
from enrollment.models import Enrollment
from tests.fixtures.ca import fixture_bytes, order_for

REFUSED = [
    ("bad_signature.der", "csr_bad_signature"),
    ("rsa1024.pem", "key_too_small"),
    ("rsa8192.pem", "key_too_large"),
    ("rsa_e3.pem", "rsa_exponent"),
    ("p521.pem", "curve_not_allowed"),
    ("dsa2048.pem", "key_type_not_allowed"),
    ("ed25519.pem", "key_type_not_allowed"),
    ("garbage.bin", "csr_malformed"),
]


@pytest.mark.parametrize(
    ("name", "key_type", "size"),
    [
        ("rsa2048.pem", rsa.RSAPublicKey, 2048),
        ("rsa3072.der", rsa.RSAPublicKey, 3072),
        ("rsa4096.pem", rsa.RSAPublicKey, 4096),
        ("p256.pem", ec.EllipticCurvePublicKey, 256),
        ("p384.der", ec.EllipticCurvePublicKey, 384),
    ],
)
def test_it_accepts_rsa_2048_to_4096_and_p256_p384_in_pem_or_der(
    name: str, key_type: type, size: int
) -> None:
    accepted = check_csr(fixture_bytes(name))
    assert isinstance(accepted.public_key, key_type)
    assert accepted.public_key.key_size == size
    assert accepted.der.startswith(b"\x30")


@pytest.mark.parametrize(("name", "code"), REFUSED)
def test_it_refuses_each_bad_csr_with_its_own_code(name: str, code: str) -> None:
    with pytest.raises(CsrRejected) as raised:
        check_csr(fixture_bytes(name))
    assert raised.value.code == code
    assert raised.value.message  # every code has a message for the person


@pytest.mark.parametrize(("data", "code"), [(b"", "csr_empty"), (b"  \n\t ", "csr_empty")])
def test_it_refuses_an_empty_body(data: bytes, code: str) -> None:
    with pytest.raises(CsrRejected) as raised:
        check_csr(data)
    assert raised.value.code == code


def test_it_refuses_a_mebibyte_before_parsing_it() -> None:
    with pytest.raises(CsrRejected) as raised:
        check_csr(b"-----BEGIN CERTIFICATE REQUEST-----\n" + b"A" * (1024 * 1024))
    assert raised.value.code == "csr_too_large"


def test_it_accepts_exactly_the_size_limit_but_not_one_byte_more() -> None:
    pem = fixture_bytes("rsa2048.pem")
    padded = pem + b"\n" * (MAX_CSR_BYTES - len(pem))
    assert check_csr(padded)
    with pytest.raises(CsrRejected) as raised:
        check_csr(padded + b"\n")
    assert raised.value.code == "csr_too_large"


def test_the_error_codes_are_distinct_for_the_issue_cases() -> None:
    codes = [code for _name, code in REFUSED if _name != "ed25519.pem"] + [
        "csr_empty",
        "csr_too_large",
    ]
    assert len(set(codes)) == len(codes)
    assert set(codes) <= set(CSR_ERRORS)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [fixture_bytes(name) for name, _code in REFUSED] + [b"", b"x" * (1024 * 1024)],
    ids=[name for name, _code in REFUSED] + ["empty", "1MiB"],
)
def test_a_refused_csr_leaves_no_order_behind(
    data: bytes, make_enrollment: Callable[..., Enrollment]
) -> None:
    enrollment = make_enrollment()
    with pytest.raises(CsrRejected):
        order_for(enrollment, data)
    assert not Order.objects.exists()


def _assert_only_policy_errors(data: bytes) -> None:
    try:
        check_csr(data)
    except CsrRejected as rejected:
        assert rejected.code in CSR_ERRORS


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_fuzzed_bytes_raise_nothing_but_the_policy_error(data: bytes) -> None:
    _assert_only_policy_errors(data)


VALID_DER = [
    fixture_bytes("rsa3072.der"),
    fixture_bytes("p384.der"),
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(VALID_DER),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(min_value=0),
)
def test_mutated_csrs_raise_nothing_but_the_policy_error(
    der: bytes, changes: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(der)
    for position, value in changes:
        data[position % len(data)] = value
    _assert_only_policy_errors(bytes(data[: len(data) - cut % 64]))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_fuzzed_pem_armour_raises_nothing_but_the_policy_error(body: str) -> None:
    pem = f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n"
    _assert_only_policy_errors(pem.encode(errors="surrogatepass"))
