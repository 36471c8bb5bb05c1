"""Reading a QR code from a camera frame sent by a counter whose browser cannot (no
BarcodeDetector): zxing-cpp on the server."""
from __future__ import annotations

import io

import zxingcpp
from PIL import Image, UnidentifiedImageError

FRAME_MAX_BYTES = 2 * 1024 * 1024
FRAME_MAX_PIXELS = 4096 * 4096
FRAME_FORMATS = {"JPEG", "PNG", "WEBP"}


class BadFrame(ValueError):
    pass


def decode_frame(data: bytes) -> str | None:
    """The text of the first QR code in this image, None if there is none. BadFrame when the
    bytes are not a reasonable picture (too large, not an image, a decompression bomb)."""
    if not data:
        raise BadFrame("empty")
    if len(data) > FRAME_MAX_BYTES:
        raise BadFrame("too large")
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in FRAME_FORMATS:
            raise BadFrame("format")
        width, height = image.size
        if width * height > FRAME_MAX_PIXELS:
            raise BadFrame("too many pixels")
        image = image.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise BadFrame("not an image") from exc
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found[0].text if found else None
