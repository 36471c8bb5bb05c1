"""QR codes as PNG: what the vouchers and the gift cards draw (each domain knows its own URL);
and the codes in a camera frame (zxing-cpp), for the browsers without BarcodeDetector: the
counter's vouchers and cards, the stock-take's product labels and barcodes."""
from __future__ import annotations

import io

import qrcode
import zxingcpp
from PIL import Image, UnidentifiedImageError
from qrcode.constants import ERROR_CORRECT_M


def qr_png(data: str, *, box_size: int = 8) -> bytes:
    """A QR code as PNG bytes, with the quiet zone scanners need (4 modules)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


FRAME_MAX_BYTES = 2 * 1024 * 1024
FRAME_MAX_PIXELS = 4096 * 4096
FRAME_FORMATS = {"JPEG", "PNG", "WEBP"}


class BadFrame(ValueError):
    pass


def decode_frame(data: bytes, *, barcodes: bool = False) -> str | None:
    """The text of the first QR code in this image (or, with `barcodes`, of an EAN-13/EAN-8/
    UPC-A barcode too), None if there is none. BadFrame when the bytes are not a reasonable
    picture (too large, not an image, a decompression bomb)."""
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
    kinds = zxingcpp.BarcodeFormat
    formats = ((kinds.QRCode, kinds.EAN13, kinds.EAN8, kinds.UPCA) if barcodes
               else kinds.QRCode)
    found = zxingcpp.read_barcodes(image, formats=formats)
    return found[0].text if found else None
