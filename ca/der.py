"""Just enough DER to put a real signature on a structure built with a throwaway key.

``cryptography`` builders only sign with key objects it holds itself. The CA therefore builds a
certificate or CRL once, signed with a throwaway key of the same type (that copy is what the
linter checks), and then replaces its signature by one the real key made over the very same
to-be-signed bytes. That works for an HSM key, which never leaves the token, and guarantees
that what was linted is byte for byte what is issued.
"""

from __future__ import annotations


class DerError(ValueError):
    pass


def _read_tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """Return (tag, start of content, end of content) of the element at ``offset``."""
    if offset + 2 > len(data):
        raise DerError("truncated")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used here")
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise DerError("truncated")
    return tag, start, end


def _children(data: bytes) -> list[bytes]:
    """The encoded elements of a constructed element's content."""
    items = []
    offset = 0
    while offset < len(data):
        _tag, _start, end = _read_tlv(data, offset)
        items.append(data[offset:end])
        offset = end
    return items


def _content(element: bytes) -> bytes:
    _tag, start, end = _read_tlv(element, 0)
    if end != len(element):
        raise DerError("trailing data")
    return element[start:end]


def _length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def encode(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def signed_parts(signed: bytes) -> tuple[bytes, bytes]:
    """(to-be-signed element, signature AlgorithmIdentifier) of a Certificate or CRL."""
    parts = _children(_content(signed))
    if len(parts) != 3:
        raise DerError("not a signed structure")
    return parts[0], parts[1]


def replace_signature(signed: bytes, signature: bytes) -> bytes:
    """Certificate / CertificateList with its signatureValue replaced."""
    tbs, algorithm = signed_parts(signed)
    bit_string = encode(0x03, b"\x00" + signature)
    return encode(0x30, tbs + algorithm + bit_string)
