"""The files of the illustrative demo case, generated at run time: pictures with EXIF data,
screenshots, PDFs and a transcript. The same inputs always give the same bytes."""

import io
import random
import textwrap
from dataclasses import dataclass, field
from html import escape

MARK = "ILLUSTRATIVE DEMO - generated, not a real photograph or document"  # ASCII: EXIF, font
WIDTH, HEIGHT = 960, 720


@dataclass(frozen=True)
class Photo:
    """A generated picture and the EXIF data its (imaginary) camera wrote."""

    caption: str
    taken_local: str                      # EXIF "YYYY:MM:DD HH:MM:SS", local time
    offset: str                           # the local time's UTC offset, "-08:00"
    position: tuple[float, float] | None  # latitude, longitude in decimal degrees
    device: tuple[str, str]               # make, model
    seed: int
    palette: tuple[tuple[int, int, int], ...] = ((150, 160, 170), (120, 105, 90), (70, 62, 55))
    emblem: bool = False                  # a red cross painted on the ground (a roof)


@dataclass(frozen=True)
class Post:
    """A public post on an invented platform, as a screenshot."""

    account: str
    shown_time: str
    text: str
    seed: int


@dataclass(frozen=True)
class Report:
    """A short document rendered to PDF."""

    title: str
    paragraphs: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = field(default_factory=tuple)


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def _banner(draw, text: str, y: int) -> None:
    draw.rectangle((0, y, WIDTH, y + 44), fill=(180, 20, 20))
    draw.text((16, y + 10), text, fill=(255, 255, 255), font=_font(22))


def _scene(photo: Photo):
    """Sky, ground and debris drawn from a seeded generator: a stand-in for a photograph."""
    from PIL import Image, ImageDraw

    rng = random.Random(photo.seed)
    sky, ground, debris = photo.palette
    image = Image.new("RGB", (WIDTH, HEIGHT), sky)
    draw = ImageDraw.Draw(image)
    horizon = rng.randint(260, 340)
    draw.rectangle((0, horizon, WIDTH, HEIGHT), fill=ground)
    for _ in range(6):  # buildings on the horizon
        x, w, h = rng.randint(0, WIDTH - 120), rng.randint(60, 160), rng.randint(60, 180)
        draw.rectangle((x, horizon - h, x + w, horizon), fill=(95, 95, 100))
    cx, cy = rng.randint(300, 660), rng.randint(horizon + 120, HEIGHT - 160)
    if photo.emblem:
        draw.rectangle((60, horizon + 40, 300, horizon + 280), fill=(245, 245, 245))
        draw.rectangle((150, horizon + 60, 210, horizon + 260), fill=(200, 16, 46))
        draw.rectangle((80, horizon + 130, 280, horizon + 190), fill=(200, 16, 46))
    draw.ellipse((cx - 140, cy - 50, cx + 140, cy + 50), fill=debris)  # crater or damage
    for _ in range(120):
        x, y = rng.randint(0, WIDTH), rng.randint(horizon, HEIGHT - 60)
        r = rng.randint(2, 9)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=debris)
    _banner(draw, MARK, 0)
    draw.rectangle((0, HEIGHT - 60, WIDTH, HEIGHT), fill=(30, 30, 30))
    draw.text((16, HEIGHT - 45), photo.caption, fill=(255, 255, 255), font=_font(24))
    return image


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 2)
    return float(degrees), float(minutes), seconds


def photo_jpeg(photo: Photo) -> bytes:
    """A JPEG of the scene carrying capture time (with its offset), GPS position and camera."""
    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = photo.device
    exif[ExifTags.Base.ImageDescription] = MARK
    exif[ExifTags.Base.DateTime] = photo.taken_local
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = photo.taken_local
    sub[ExifTags.Base.OffsetTimeOriginal] = photo.offset
    if photo.position is not None:
        lat, lon = photo.position
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "S" if lat < 0 else "N"
        gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "W" if lon < 0 else "E"
        gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    out = io.BytesIO()
    _scene(photo).save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def post_png(post: Post) -> bytes:
    """A screenshot of a post: no camera metadata, as such screenshots usually have none."""
    from PIL import Image, ImageDraw

    rng = random.Random(post.seed)
    image = Image.new("RGB", (WIDTH, 420), (236, 238, 242))
    draw = ImageDraw.Draw(image)
    _banner(draw, "ILLUSTRATIVE DEMO - invented post on an invented platform", 0)
    draw.rounded_rectangle((40, 80, WIDTH - 40, 380), radius=18, fill=(255, 255, 255),
                           outline=(200, 204, 210))
    avatar = tuple(rng.randint(40, 200) for _ in range(3))
    draw.ellipse((70, 110, 140, 180), fill=avatar)
    draw.text((160, 115), post.account, fill=(20, 20, 20), font=_font(28))
    draw.text((160, 152), post.shown_time, fill=(110, 110, 110), font=_font(20))
    y = 210
    for line in textwrap.wrap(post.text, 62):
        draw.text((70, y), line, fill=(30, 30, 30), font=_font(24))
        y += 34
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


_REPORT_CSS = """
@page { size: A4; margin: 2cm;
        @bottom-center { content: "ILLUSTRATIVE DEMO — invented document"; } }
body { font-family: sans-serif; font-size: 10.5pt; line-height: 1.4; }
.mark { border: 2px solid #b41414; color: #b41414; padding: 4pt 8pt; font-weight: bold; }
table { border-collapse: collapse; width: 100%; }
td, th { border: 1px solid #999; padding: 3pt 6pt; }
"""


def report_pdf(report: Report) -> bytes:
    """The report as a PDF; nothing is fetched and no date of rendering is written into it."""
    from weasyprint import HTML

    rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in report.rows)
    table = f"<table>{rows}</table>" if rows else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in report.paragraphs)
    html = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(report.title)}</title><style>{_REPORT_CSS}</style></head><body>"
            f"<p class='mark'>{escape(MARK)}</p><h1>{escape(report.title)}</h1>{body}{table}"
            f"</body></html>")
    return HTML(string=html, url_fetcher=_refuse).write_pdf()


def _refuse(url: str, *args, **kwargs):
    raise ValueError(f"the demo documents fetch nothing ({url})")


def transcript(lines: tuple[str, ...]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")
