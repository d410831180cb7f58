"""QR codes drawn here as SVG (qrcode's path image), never by a third party."""

from __future__ import annotations

import io
import re

import qrcode
import qrcode.image.svg


def svg(data: str, box_size: int) -> str:
    """The code as one SVG element, fit both to inline in HTML and to serve as an image.

    The XML declaration that qrcode writes is left out: it is not allowed inside HTML, and an
    SVG file is UTF-8 without one.
    """
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=box_size)
    buffer = io.BytesIO()
    image.save(buffer)
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", buffer.getvalue().decode())
