"""Media safety: what an upload really is, decided from its bytes, and a clean copy of it.

Staff post photos, short videos and PDF documents to stories; pupils post photos and
drawings to their portfolios; parents and staff attach photos and PDFs to messages. Both
services make uploads safe here, so there is one set of rules, not a copy per service.
Nothing reaches the media store as it was uploaded:

- **Images** (JPEG, PNG, WebP, GIF: the first frame) are decoded with a pixel limit and
  scaled down to the largest size we store, then turned the right way up from their EXIF
  orientation, converted to sRGB, flattened onto white and drawn into a brand-new picture,
  which is encoded as a progressive JPEG at two sizes. The
  new picture carries no EXIF (so no GPS position, camera or time), no ICC profile, no XMP,
  no comments and no text chunks: nothing of the uploaded file survives but its pixels.
- **Documents** must be real PDFs; see ``_clean_pdf`` for what the rewrite removes.
- **Videos** (MP4 and QuickTime/MOV) cannot be re-encoded here: that needs ffmpeg, which this
  platform does not ship. They are checked box by box, and their metadata boxes (``udta``,
  ``meta``, ``uuid``: where phones put the GPS position and XMP) are overwritten in place,
  but the audio and video streams are stored as uploaded.

The kind is decided from the bytes only: never from a file name or a declared content
type. ``make_safe`` is pure, CPU-bound and blocking; a service runs it in a throwaway
process with a memory limit (``schoolgate_kit.media.decoding``), so that a file that still
costs more than it should costs that process, never the web process.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject

from schoolgate_kit.problems import Unprocessable

MEGABYTE = 1024 * 1024
IMAGE_MAX_BYTES = 15 * MEGABYTE
DOCUMENT_MAX_BYTES = 20 * MEGABYTE
VIDEO_MAX_BYTES = 50 * MEGABYTE
IMAGE_MAX_PIXELS = 50_000_000
"""JPEG: about 8200 x 6100, just above the 48- and 50-megapixel modes of phone cameras.

A JPEG is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's ``draft``) when the result is
scaled down anyway, so a 50-megapixel baseline photo costs about 40 MB. A progressive
JPEG still holds every coefficient while it decodes (about 150 MB at this size); the
decoding process's memory limit covers that."""
LOSSLESS_MAX_PIXELS = 25_000_000
"""PNG, WebP and GIF: about 5000 x 5000. They decode at full size only, four bytes a pixel
at most, so this bounds a decode to about 100 MB, and its scaled-down copy to as much
again. What schools send in these formats is far smaller: a 6K screenshot is 20
megapixels, an A4 page scanned at 400 dpi 16. A 49-megapixel PNG of one colour is 160 KB
to upload and took 900 MB to decode before this limit."""
DOCUMENT_MAX_PAGES = 500

FULL_SIZE = 1600
"""Longest side of the picture a story shows."""
THUMB_SIZE = 400
"""Longest side of the picture a feed or portfolio grid shows."""
JPEG_QUALITY = 85

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash"}
)
QUICKTIME_BRAND = b"qt  "
VIDEO_METADATA_BOXES = frozenset({b"udta", b"meta", b"uuid"})
"""Boxes that hold titles, GPS positions (``©xyz``, ISO 6709 keys), XMP and vendor data."""
VIDEO_CONTAINERS = frozenset({b"moov", b"trak"})
"""Boxes whose children are searched for metadata boxes too."""

PDF_DANGEROUS_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/ResetForm",
        "/GoToR",
        "/GoToE",
        "/Rendition",
        "/RichMediaExecute",
        "/Sound",
        "/Movie",
    }
)
PDF_DROPPED_ANNOTATIONS = frozenset(
    {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
)
PDF_PAGE_KEYS_DROPPED = ("/AA", "/Metadata", "/PieceInfo", "/Thumb")

ACCEPTED = (
    "We can accept photos and drawings (JPEG, PNG, WebP or GIF), short videos (MP4 or MOV) "
    "and PDF documents."
)


@dataclass(frozen=True)
class SafeMedia:
    kind: Literal["image", "video", "document"]
    content_type: str
    variants: dict[str, bytes]
    """Images: ``full`` (at most 1600 px on the long side) and ``thumb`` (at most 400 px);
    documents and videos: ``full``."""
    width: int | None = None
    height: int | None = None


class UnsafeMedia(Unprocessable):
    """An upload that cannot be used; ``detail`` is written for a teacher or a parent and
    ``reason`` is a stable code for the page that shows it."""

    slug, title = "unsafe-media", "This file cannot be used"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason


def make_safe(data: bytes, *, memory_budget: int | None = None) -> SafeMedia:
    """The clean copy of an upload, or ``UnsafeMedia`` saying why there is none.

    ``memory_budget``: the bytes this decode may use, when it runs under such a limit. A
    picture whose header shows it needs more is refused as too large to process before
    decoding; see ``_held_while_decoding`` for the one case that needs it."""
    if not data:
        raise UnsafeMedia("The file is empty.", reason="empty")
    if len(data) > VIDEO_MAX_BYTES:
        raise UnsafeMedia(
            f"The file is too large: the most we accept is {_mb(VIDEO_MAX_BYTES)} for a "
            f"video, {_mb(DOCUMENT_MAX_BYTES)} for a PDF and {_mb(IMAGE_MAX_BYTES)} for a photo.",
            reason="too-large",
        )
    if data.startswith(b"%PDF-"):
        return _safe_document(data)
    if data[4:8] == b"ftyp":
        return _safe_video(data)
    return _safe_image(data, memory_budget)


def _mb(size: int) -> str:
    return f"{size // MEGABYTE} MB"


# images ---------------------------------------------------------------------------------


def _safe_image(data: bytes, memory_budget: int | None) -> SafeMedia:
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(IMAGE_MAX_PIXELS) from None
    except UnidentifiedImageError:
        raise UnsafeMedia(
            f"This file is not a kind we can use. {ACCEPTED}", reason="unsupported-type"
        ) from None
    except Exception:  # untrusted bytes: any decoder failure means "damaged"
        raise _damaged_image() from None
    with image:
        if len(data) > IMAGE_MAX_BYTES:
            raise UnsafeMedia(
                f"This photo is too large: the most we accept is {_mb(IMAGE_MAX_BYTES)}.",
                reason="too-large",
            )
        width, height = image.size
        limit = IMAGE_MAX_PIXELS if image.format == "JPEG" else LOSSLESS_MAX_PIXELS
        if width < 1 or height < 1 or width * height > limit:
            raise _too_many_pixels(limit)
        try:
            image.seek(0)  # an animation's first frame
            full = _upright_srgb(_scaled_down(image, FULL_SIZE, memory_budget))
            thumb = full.copy()
            thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(limit) from None
        except MemoryError:
            raise too_large_to_process("picture") from None
        except UnsafeMedia:
            raise
        except Exception:  # untrusted bytes: truncated or corrupt data
            raise _damaged_image() from None

    return SafeMedia(
        kind="image",
        content_type="image/jpeg",
        variants={"full": _jpeg(full), "thumb": _jpeg(thumb)},
        width=full.width,
        height=full.height,
    )


RESIZABLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "CMYK"})
"""Modes Pillow resizes with the filter asked for; it resizes palette and 1-bit pictures
by nearest neighbour, so those are converted first."""


def _scaled_down(image: Image.Image, longest: int, memory_budget: int | None) -> Image.Image:
    """The picture fitted within ``longest`` pixels a side, before any other work on it, so
    that the steps after it (turning, colour conversion, flattening) each copy a small
    picture instead of the full one. EXIF, ICC profile and transparency stay in ``info``."""
    if image.mode not in RESIZABLE_MODES:
        transparent = image.mode in ("PA", "La", "RGBa") or "transparency" in image.info
        image = image.convert("RGBA" if transparent else "RGB")
    if image.format == "JPEG":
        # libjpeg decodes at the smallest of 1/8, 1/4, 1/2 or full scale that is still
        # twice the size wanted (as thumbnail() would, but for this picture's shape: its
        # own guess uses a square, which keeps a 4:3 photo at full scale).
        shrink = min(longest / image.width, longest / image.height, 0.5)
        coefficients = _held_while_decoding(image)
        image.draft(None, (round(image.width * shrink * 2), round(image.height * shrink * 2)))
        # The decoded picture and the copy resizing makes, beside the coefficients.
        needed = coefficients + 2 * image.width * image.height * len(image.getbands())
        if coefficients and memory_budget is not None and needed > memory_budget:
            raise too_large_to_process("picture")
    image.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return image


def _held_while_decoding(image: Image.Image) -> int:
    """Bytes libjpeg holds at once to decode a progressive JPEG: every DCT coefficient of
    every component, two bytes each, at full size whatever the scale asked for (about 150
    MB for a 50-megapixel photo, 300 MB without chroma subsampling). When it cannot have
    them it reports a broken data stream, not a lack of memory, so the budget is checked
    beforehand (``_scaled_down``). Other decoders' large allocations are Pillow's own, which raise
    ``MemoryError``, and baseline JPEGs decode a few rows at a time: 0 for those."""
    if image.format != "JPEG" or not image.info.get("progressive"):
        return 0
    layers: list[tuple[Any, int, int, Any]] = getattr(image, "layer", [])
    if not layers:
        return 0
    widest = max(max(h for _, h, _, _ in layers), 1)
    tallest = max(max(v for _, _, v, _ in layers), 1)
    blocks = 0
    for _, h, v, _ in layers:
        blocks += -(-image.width * h // (widest * 8)) * -(-image.height * v // (tallest * 8))
    return blocks * 64 * 2


def _upright_srgb(image: Image.Image) -> Image.Image:
    """The pixels only, the right way up, in sRGB on white: a new image with empty ``info``."""
    # Orientation is read from the EXIF we are about to drop, so it goes first.
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block: keep the picture as it was stored
        upright = image.copy()
    icc = image.info.get("icc_profile")
    if icc and upright.mode in ("RGB", "CMYK"):
        # an unusable profile leaves the picture to the plain conversion below
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = ImageCms.profileToProfile(
                upright,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
            if converted is not None:
                upright = converted
    if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = upright.convert("RGB")
    # A fresh image: no EXIF, ICC, XMP, comment or text chunk can ride along into the save.
    clean = Image.new("RGB", flat.size)
    clean.paste(flat)
    return clean


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _too_many_pixels(limit: int) -> UnsafeMedia:
    return UnsafeMedia(
        f"This picture has too many pixels to use safely (the most is "
        f"{limit // 1_000_000} megapixels for this kind of file). Please send a smaller copy.",
        reason="too-many-pixels",
    )


def too_large_to_process(what: str) -> UnsafeMedia:
    """A file (``what``: picture, PDF, video) that needs more memory or time than one
    upload may have."""
    return UnsafeMedia(
        f"This {what} is too large to process. Please send a smaller copy.",
        reason="too-large-to-process",
    )


def _damaged_image() -> UnsafeMedia:
    return UnsafeMedia(
        "This photo could not be opened: the file may be damaged or only partly uploaded. "
        "Please try again or choose another photo.",
        reason="damaged",
    )


# documents ------------------------------------------------------------------------------


def _safe_document(data: bytes) -> SafeMedia:
    if len(data) > DOCUMENT_MAX_BYTES:
        raise UnsafeMedia(
            f"This PDF is too large: the most we accept is {_mb(DOCUMENT_MAX_BYTES)}.",
            reason="too-large",
        )
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
    except MemoryError:
        raise too_large_to_process("PDF") from None
    except Exception:  # untrusted bytes: any parser failure means "not a readable PDF"
        raise _damaged_pdf() from None
    if encrypted:
        raise UnsafeMedia(
            "This PDF is protected with a password or encryption. Please save a copy "
            "without protection and try again.",
            reason="encrypted",
        )
    if pages < 1:
        raise UnsafeMedia("This PDF has no pages.", reason="empty")
    if pages > DOCUMENT_MAX_PAGES:
        raise UnsafeMedia(
            f"This PDF has {pages} pages: the most we accept is {DOCUMENT_MAX_PAGES}.",
            reason="too-many-pages",
        )
    try:
        clean = _clean_pdf(reader)
    except MemoryError:
        raise too_large_to_process("PDF") from None
    except Exception:  # a PDF that opened but whose pages cannot be copied
        raise _damaged_pdf() from None
    return SafeMedia(kind="document", content_type="application/pdf", variants={"full": clean})


def _clean_pdf(reader: PdfReader) -> bytes:
    """The PDF rewritten page by page into a new file.

    Removed: everything hanging off the old document catalog (document-level JavaScript
    and the names tree, ``/OpenAction``, ``/AA`` additional actions, embedded files,
    the XMP ``/Metadata`` stream, outlines, the interactive form definition), the ``/Info``
    dictionary (author, title, creator, producer, dates), anything after the last ``%%EOF``
    (a polyglot's payload), and on each page: its actions (``/AA``), XMP, piece info and
    thumbnail, annotations that carry files or media (file attachments, sounds, movies,
    screens, rich media, 3D), and every JavaScript, launch, form-submit or remote-go-to
    action of the annotations kept (web links and in-document links stay).

    Not removed: the page content itself, including any text or images a person placed on
    the page; metadata inside images embedded in the pages (an embedded JPEG keeps its own
    EXIF); fonts and their names; hidden text in content streams. Form fields lose their
    form but keep their appearance.
    """
    writer = PdfWriter()
    for page in reader.pages:
        # Annotations are copied one by one below, so a dropped one (and the file it
        # carries) never reaches the writer at all.
        copied = writer.add_page(page, excluded_keys=(*PDF_PAGE_KEYS_DROPPED, "/Annots"))
        annotations = page.get("/Annots")
        if annotations is None:
            continue
        kept = ArrayObject()
        for reference in annotations.get_object():
            annotation = reference.get_object()
            if not isinstance(annotation, DictionaryObject):
                continue
            if annotation.get("/Subtype") in PDF_DROPPED_ANNOTATIONS:
                continue
            # /P and /Parent lead back to the original page and form: not followed. Fields
            # left out here are never copied, so nothing of them lingers unreferenced.
            left_out = ["/P", "/Parent", "/AA"]
            if _unsafe_action(annotation):
                left_out.append("/A")
            kept.append(reference.clone(writer, False, left_out))
        copied[NameObject("/Annots")] = kept
    writer.metadata = None
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _unsafe_action(annotation: DictionaryObject) -> bool:
    action = annotation.get("/A")
    if action is None:
        return False
    action = action.get_object()
    return not isinstance(action, DictionaryObject) or _is_dangerous(action)


def _is_dangerous(action: DictionaryObject, depth: int = 0) -> bool:
    """True for a dangerous action or one that chains (``/Next``) to one."""
    if depth > 16 or action.get("/S") in PDF_DANGEROUS_ACTIONS:
        return True
    chained: Any = action.get("/Next")
    if chained is None:
        return False
    chained = chained.get_object()
    actions = chained if isinstance(chained, list) else [chained]
    return any(
        not isinstance(a.get_object(), DictionaryObject) or _is_dangerous(a.get_object(), depth + 1)
        for a in actions
    )


def _damaged_pdf() -> UnsafeMedia:
    return UnsafeMedia(
        "This file says it is a PDF but could not be read as one: it may be damaged. "
        "Please save it again as a PDF and try again.",
        reason="damaged",
    )


# videos ---------------------------------------------------------------------------------


class _Malformed(Exception):
    pass


def _boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """ISO base media boxes between ``start`` and ``end``: (type, start, header size, end)."""
    position = start
    while position < end:
        if end - position < 8:
            raise _Malformed
        size = int.from_bytes(data[position : position + 4], "big")
        kind = bytes(data[position + 4 : position + 8])
        header = 8
        if size == 1:
            if end - position < 16:
                raise _Malformed
            size = int.from_bytes(data[position + 8 : position + 16], "big")
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise _Malformed
        yield kind, position, header, position + size
        position += size


def _safe_video(data: bytes) -> SafeMedia:
    if len(data) > VIDEO_MAX_BYTES:
        raise UnsafeMedia(
            f"This video is too large: the most we accept is {_mb(VIDEO_MAX_BYTES)}. "
            "Please send a shorter clip.",
            reason="too-large",
        )
    brand = data[8:12]
    if brand == QUICKTIME_BRAND:
        content_type = "video/quicktime"
    elif brand in MP4_BRANDS:
        content_type = "video/mp4"
    else:
        raise UnsafeMedia(
            f"This file is not a kind we can use. {ACCEPTED} Phone pictures saved as HEIC "
            "need to be shared as JPEG.",
            reason="unsupported-type",
        )
    cleaned = bytearray(data)
    try:
        top = list(_boxes(cleaned, 0, len(cleaned)))
        if not top or top[0][0] != b"ftyp" or not any(b[0] == b"moov" for b in top):
            raise _Malformed
        _scrub_boxes(cleaned, top, depth=0)
    except _Malformed:
        raise UnsafeMedia(
            "This video could not be read: the file may be damaged or only partly uploaded.",
            reason="damaged",
        ) from None
    return SafeMedia(kind="video", content_type=content_type, variants={"full": bytes(cleaned)})


def _scrub_boxes(data: bytearray, boxes: list[tuple[bytes, int, int, int]], depth: int) -> None:
    """Blank metadata boxes in place as ``free`` boxes of the same size.

    Keeping every size keeps every offset: the sample tables point into ``mdat`` by
    absolute file position, so removing bytes would break playback.
    """
    for kind, start, header, end in boxes:
        if kind in VIDEO_METADATA_BOXES:
            data[start + 4 : start + 8] = b"free"
            data[start + header : end] = bytes(end - start - header)
        elif kind in VIDEO_CONTAINERS and depth < 2:
            _scrub_boxes(data, list(_boxes(data, start + header, end)), depth + 1)
