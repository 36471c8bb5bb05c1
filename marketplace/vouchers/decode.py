"""Reading a QR code from a camera frame sent by a counter whose browser cannot (no
BarcodeDetector): zxing-cpp on the server (marketplace/qr.py, which the stock-take uses too)."""
from __future__ import annotations

from marketplace.qr import FRAME_FORMATS, FRAME_MAX_BYTES, FRAME_MAX_PIXELS, BadFrame, decode_frame

__all__ = ["FRAME_FORMATS", "FRAME_MAX_BYTES", "FRAME_MAX_PIXELS", "BadFrame", "decode_frame"]
