"""What a file says about itself: its media type (from its bytes), EXIF capture data, a thumbnail."""

import io
import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import magic
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

THUMBNAIL_PX = 480
# Refuse to decode images larger than this many pixels (decompression bombs).
MAX_PIXELS = 120_000_000


def media_type_of(head: bytes) -> str:
    """The media type recognised from the content itself, never from the name or the browser."""
    detected = magic.from_buffer(head, mime=True) or "application/octet-stream"
    return "application/octet-stream" if detected == "application/x-empty" else detected


@dataclass
class CaptureData:
    time: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    device: str = ""
    note: str = ""


def _rational(value) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _gps_degrees(dms, ref: str) -> float | None:
    try:
        degrees = _rational(dms[0]) + _rational(dms[1]) / 60 + _rational(dms[2]) / 3600
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if math.isnan(degrees):
        return None
    return -degrees if ref in ("S", "W") else degrees


def _exif_time(exif_ifd: dict, base: dict) -> datetime | None:
    text = exif_ifd.get(ExifTags.Base.DateTimeOriginal) or base.get(ExifTags.Base.DateTime)
    if not text:
        return None
    try:
        moment = datetime.strptime(str(text).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = exif_ifd.get(ExifTags.Base.OffsetTimeOriginal) or exif_ifd.get(ExifTags.Base.OffsetTime)
    tz = UTC
    if offset and len(str(offset)) >= 6:
        sign = -1 if str(offset)[0] == "-" else 1
        try:
            hours, minutes = int(str(offset)[1:3]), int(str(offset)[4:6])
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        except ValueError:
            pass
    return moment.replace(tzinfo=tz).astimezone(UTC)


def read_capture_data(path: Path) -> CaptureData:
    """EXIF capture time, GPS position and device of an image; an unreadable file gives a note."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                exif = image.getexif()
                base = dict(exif)
                exif_ifd = dict(exif.get_ifd(ExifTags.IFD.Exif))
                gps = dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return CaptureData(note="The image's metadata could not be read.")
    data = CaptureData(time=_exif_time(exif_ifd, base))
    make = str(base.get(ExifTags.Base.Make, "")).strip("\x00 ")
    model = str(base.get(ExifTags.Base.Model, "")).strip("\x00 ")
    data.device = (model if model.startswith(make) else f"{make} {model}").strip()[:300]
    if ExifTags.GPS.GPSLatitude in gps and ExifTags.GPS.GPSLongitude in gps:
        lat = _gps_degrees(gps[ExifTags.GPS.GPSLatitude], str(gps.get(ExifTags.GPS.GPSLatitudeRef, "N")))
        lon = _gps_degrees(gps[ExifTags.GPS.GPSLongitude], str(gps.get(ExifTags.GPS.GPSLongitudeRef, "E")))
        if lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
            data.latitude, data.longitude = round(lat, 7), round(lon, 7)
    if not (data.time or data.device or data.latitude is not None):
        data.note = "The image carries no capture metadata."
    return data


def make_thumbnail(path: Path) -> bytes | None:
    """A JPEG thumbnail, upright per its EXIF orientation; None if the image cannot be decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    return None
                image.draft("RGB", (THUMBNAIL_PX * 2, THUMBNAIL_PX * 2))
                upright = ImageOps.exif_transpose(image)
                upright.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
                out = io.BytesIO()
                upright.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
                return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))
