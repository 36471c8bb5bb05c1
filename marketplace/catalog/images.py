"""Photo uploads: refuse what is not a sane image, re-encode what is (no metadata kept)."""
from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.errors import DomainError
from marketplace.i18n import lazy_gettext as _l

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_SIDE = 1600
THUMB_SIDE = 400


class ImageError(DomainError):
    status_code = 400


@dataclass
class StoredImage:
    filename: str
    thumbnail: str
    width: int
    height: int


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_DIR"]) / "products"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_product_photo(data: bytes) -> StoredImage:
    """Validate `data`, then write a JPEG (at most MAX_SIDE px) and a thumbnail. Raises ImageError."""
    config = current_app.config
    if len(data) > config["UPLOAD_MAX_BYTES"]:
        raise ImageError(
            _l("The photo is too large: %(max)d MB at most.", max=config["UPLOAD_MAX_BYTES"] // 2**20)
        )
    if not data:
        raise ImageError(_l("The file is empty."))
    image = _open_checked(data, max_pixels=config["UPLOAD_MAX_PIXELS"])
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    else:
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)

    folder = upload_folder()
    stem = secrets.token_hex(12)
    name, thumb_name = f"{stem}.jpg", f"{stem}-thumb.jpg"
    # Saving re-encodes pixels only: EXIF (GPS position...) and any hidden payload are dropped.
    image.save(folder / name, "JPEG", quality=85, optimize=True, progressive=True)
    thumb.save(folder / thumb_name, "JPEG", quality=80, optimize=True)
    return StoredImage(name, thumb_name, image.width, image.height)


def check_photo(data: bytes) -> None:
    """ImageError when `data` would be refused by store_product_photo (nothing is written)."""
    config = current_app.config
    if len(data) > config["UPLOAD_MAX_BYTES"]:
        raise ImageError(
            _l("The photo is too large: %(max)d MB at most.", max=config["UPLOAD_MAX_BYTES"] // 2**20)
        )
    if not data:
        raise ImageError(_l("The file is empty."))
    _open_checked(data, max_pixels=config["UPLOAD_MAX_PIXELS"]).close()


def _open_checked(data: bytes, *, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in ACCEPTED_FORMATS:
                raise ImageError(_l("Send a JPEG, PNG, WebP or GIF photo."))
            width, height = probe.size
            if width * height > max_pixels or width > 20000 or height > 20000:
                raise ImageError(_l("The photo has too many pixels: use a smaller picture."))
            probe.verify()  # structure check; the image must be reopened after verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(_l("The photo has too many pixels: use a smaller picture.")) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(_l("This file is not a photo we can read: send a JPEG, PNG or WebP image.")) from exc
    return image


def delete_files(*names: str) -> None:
    folder = upload_folder()
    for name in names:
        path = folder / name
        if path.is_file():
            path.unlink()
