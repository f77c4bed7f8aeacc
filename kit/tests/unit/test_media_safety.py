"""Media safety: uploads are judged by their bytes and stored without metadata.

Every check on an output reads the output's bytes: JPEG segments, PDF objects, MP4 boxes.
"""

from __future__ import annotations

import inspect
import io
import os
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from schoolgate_kit.media.filesystem import FilesystemMediaStore
from schoolgate_kit.media.safety import (
    DOCUMENT_MAX_BYTES,
    FULL_SIZE,
    IMAGE_MAX_BYTES,
    IMAGE_MAX_PIXELS,
    LOSSLESS_MAX_PIXELS,
    THUMB_SIZE,
    VIDEO_MAX_BYTES,
    SafeMedia,
    UnsafeMedia,
    make_safe,
)

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
ORIENTATION = 0x0112
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="51,30.2N" '
    b'exif:GPSLongitude="0,7.1W"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
RED, BLUE = (220, 20, 20), (20, 20, 220)


# what is inside a JPEG, read from its bytes --------------------------------------------


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """The marker segments before the image data: (marker, payload)."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    segments, position = [], 2
    while True:
        assert data[position] == 0xFF
        marker = data[position + 1]
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segments.append((marker, data[position + 4 : position + 2 + length]))
        position += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return segments


def assert_clean_jpeg(data: bytes) -> None:
    markers = [marker for marker, _ in jpeg_segments(data)]
    # APP0 (JFIF) is the only application segment: no APP1 (EXIF, GPS, XMP), no APP2 (ICC),
    # no APP13 (Photoshop IPTC), and no COM (comment) segments
    assert [m for m in markers if 0xE0 <= m <= 0xEF] == [0xE0]
    assert 0xFE not in markers
    for needle in (b"Exif", b"http://ns.adobe.com/xap/1.0/", b"ICC_PROFILE", b"Photoshop"):
        assert needle not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        exif = image.getexif()
        assert dict(exif) == {}
        assert dict(exif.get_ifd(GPS_IFD)) == {}
        for key in ("exif", "icc_profile", "xmp", "comment", "photoshop"):
            assert key not in image.info
        image.load()  # and it decodes


def longest_side(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as image:
        return max(image.size)


def pixel(data: bytes, xy: tuple[int, int]) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as image:
        value = image.convert("RGB").getpixel(xy)
    assert isinstance(value, tuple)
    return (int(value[0]), int(value[1]), int(value[2]))


def close_to(got: tuple[int, int, int], want: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(got, want, strict=True))


# images to upload, made here --------------------------------------------------------------


def camera_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x0132] = "2026:11:20 09:15:00"  # DateTime
    exif.get_ifd(EXIF_IFD)[0x9003] = "2026:11:20 09:15:00"  # DateTimeOriginal
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (51.0, 30.0, 12.5)  # GPSLatitude
    gps[3] = "W"  # GPSLongitudeRef
    gps[4] = (0.0, 7.0, 1.0)  # GPSLongitude
    return exif


def halves(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: shows which way up a picture came out."""
    image = Image.new(mode, size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def phone_photo(size: tuple[int, int] = (2400, 1600), orientation: int = 6) -> bytes:
    """A landscape-stored JPEG whose EXIF says "turn me a quarter clockwise", with GPS."""
    out = io.BytesIO()
    halves(size).save(
        out,
        "JPEG",
        exif=camera_exif(orientation),
        xmp=XMP,
        icc_profile=srgb_icc(),
        comment=b"Taken at 12 Acacia Avenue",
        quality=90,
    )
    return out.getvalue()


# images -------------------------------------------------------------------------------------


def test_the_test_photo_really_carries_gps_exif_and_xmp() -> None:
    data = phone_photo()
    markers = [m for m, _ in jpeg_segments(data)]
    assert 0xE1 in markers  # APP1
    assert b"Exif" in data
    assert b"http://ns.adobe.com/xap/1.0/" in data
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        assert exif[ORIENTATION] == 6
        assert exif.get_ifd(GPS_IFD)[2] == (51.0, 30.0, 12.5)


def test_a_phone_photo_loses_gps_and_every_other_metadata() -> None:
    safe = make_safe(phone_photo())
    assert safe.kind == "image"
    assert safe.content_type == "image/jpeg"
    assert set(safe.variants) == {"full", "thumb"}
    for variant in safe.variants.values():
        assert_clean_jpeg(variant)
        assert b"Acacia" not in variant
        assert b"PhoneMaker" not in variant


def test_orientation_is_applied_before_the_exif_is_dropped() -> None:
    # stored 2400 x 1600 landscape, orientation 6: seen as 1600 x 2400 portrait, the
    # stored left (red) half on top
    safe = make_safe(phone_photo((2400, 1600), orientation=6))
    full, thumb = safe.variants["full"], safe.variants["thumb"]
    with Image.open(io.BytesIO(full)) as image:
        assert image.size == (1067, FULL_SIZE)
    assert (safe.width, safe.height) == (1067, FULL_SIZE)
    with Image.open(io.BytesIO(thumb)) as image:
        assert image.size == (267, THUMB_SIZE)
    assert close_to(pixel(full, (533, 100)), RED)
    assert close_to(pixel(full, (533, 1500)), BLUE)
    assert close_to(pixel(thumb, (133, 20)), RED)
    assert close_to(pixel(thumb, (133, 380)), BLUE)


def test_a_photo_without_orientation_keeps_its_way_up() -> None:
    safe = make_safe(phone_photo((900, 600), orientation=1))
    assert (safe.width, safe.height) == (900, 600)  # never enlarged
    assert longest_side(safe.variants["thumb"]) == THUMB_SIZE
    assert close_to(pixel(safe.variants["full"], (10, 300)), RED)
    assert close_to(pixel(safe.variants["full"], (890, 300)), BLUE)


def test_variants_are_within_their_sizes_for_any_shape() -> None:
    for size in [(5000, 400), (300, 4000), (1600, 1600), (1, 1), (401, 399)]:
        out = io.BytesIO()
        halves(size).save(out, "PNG")
        safe = make_safe(out.getvalue())
        assert longest_side(safe.variants["full"]) == min(FULL_SIZE, max(size))
        assert longest_side(safe.variants["thumb"]) <= THUMB_SIZE
        assert safe.width is not None
        assert safe.height is not None
        assert max(safe.width, safe.height) <= FULL_SIZE


def test_a_png_with_text_chunks_comes_out_clean_and_flattened_on_white() -> None:
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((20, 20, 220, 255), (100, 0, 200, 100))
    text = PngInfo()
    text.add_text("Author", "Mr Jones")
    text.add_text("Comment", "Ada at 12 Acacia Avenue")
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    text.add_text("Description", "a long description " * 40, zip=True)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=text, exif=camera_exif(1), icc_profile=srgb_icc())
    data = out.getvalue()
    assert b"Mr Jones" in data
    assert b"eXIf" in data

    safe = make_safe(data)
    for variant in safe.variants.values():
        assert_clean_jpeg(variant)
        for needle in (b"Mr Jones", b"Acacia", b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
            assert needle not in variant
    assert close_to(pixel(safe.variants["full"], (10, 50)), (255, 255, 255))
    assert close_to(pixel(safe.variants["full"], (190, 50)), BLUE)


def test_a_webp_with_exif_and_xmp_comes_out_a_clean_jpeg() -> None:
    out = io.BytesIO()
    halves((300, 200)).save(out, "WEBP", exif=camera_exif(1), xmp=XMP)
    assert b"EXIF" in out.getvalue()
    safe = make_safe(out.getvalue())
    assert safe.content_type == "image/jpeg"
    for variant in safe.variants.values():
        assert_clean_jpeg(variant)


def test_an_animated_gif_gives_its_first_frame() -> None:
    first = Image.new("P", (120, 80), 0)
    first.putpalette([*RED, *BLUE] + [0, 0, 0] * 254)
    second = first.copy()
    second.paste(1, (0, 0, 120, 80))
    out = io.BytesIO()
    first.save(out, "GIF", save_all=True, append_images=[second], comment=b"secret", loop=0)
    safe = make_safe(out.getvalue())
    assert (safe.width, safe.height) == (120, 80)
    assert close_to(pixel(safe.variants["full"], (60, 40)), RED)
    assert_clean_jpeg(safe.variants["full"])


def test_a_cmyk_jpeg_comes_out_rgb() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(out, "JPEG", exif=camera_exif(1))
    safe = make_safe(out.getvalue())
    with Image.open(io.BytesIO(safe.variants["full"])) as image:
        assert image.mode == "RGB"
    assert_clean_jpeg(safe.variants["full"])


def test_a_truncated_photo_is_refused() -> None:
    data = phone_photo((1200, 800), orientation=1)
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(data[: len(data) // 2])
    assert caught.value.reason == "damaged"
    assert caught.value.status == 422
    assert caught.value.body()["type"].endswith("/unsafe-media")


def test_a_corrupt_photo_is_refused() -> None:
    data = bytearray(phone_photo((400, 300), orientation=1))
    data[-600:-2] = os.urandom(598)
    header_only = bytes(data[:200])
    for broken in (header_only, b"\xff\xd8\xff\xe0" + os.urandom(2000)):
        with pytest.raises(UnsafeMedia):
            make_safe(broken)


def png_of_size(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "size",
    [
        (7000, 7000),  # 49 megapixels: a phone photo's size, but a PNG must be smaller
        (8000, 7000),  # 56 megapixels: above our limit, below Pillow's own warning
        (10000, 10000),  # 100 megapixels: past Pillow's decompression-bomb warning
        (20000, 20000),  # 400 megapixels: past Pillow's decompression-bomb error
    ],
)
def test_a_pixel_bomb_is_refused_before_it_is_decoded(size: tuple[int, int]) -> None:
    data = png_of_size(*size)
    assert len(data) < 100_000  # tiny on disk, enormous in memory
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(data)
    assert caught.value.reason == "too-many-pixels"


def test_a_jpeg_may_have_twice_the_pixels_of_other_pictures() -> None:
    assert IMAGE_MAX_PIXELS == 2 * LOSSLESS_MAX_PIXELS
    data = phone_photo((8000, 6000))  # 48 megapixels, as phones' high-resolution modes
    safe = make_safe(data, memory_budget=64 * 1024 * 1024)
    assert (safe.width, safe.height) == (FULL_SIZE * 3 // 4, FULL_SIZE)  # turned upright
    assert_clean_jpeg(safe.variants["full"])


def progressive_jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    halves(size).save(out, "JPEG", progressive=True, quality=90)
    return out.getvalue()


def test_a_progressive_jpeg_beyond_the_memory_budget_is_too_large_to_process() -> None:
    """libjpeg holds all of a progressive JPEG's coefficients (here 8000 x 6000 x 1.5 x 2
    bytes, 137 MiB); beyond the budget it would fail as "broken data", so it is refused
    before it starts, saying what is really wrong."""
    data = progressive_jpeg((8000, 6000))
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(data, memory_budget=128 * 1024 * 1024)
    assert caught.value.reason == "too-large-to-process"
    assert make_safe(data, memory_budget=256 * 1024 * 1024).width == FULL_SIZE


def test_an_oversized_photo_is_refused() -> None:
    data = phone_photo((400, 300), orientation=1)
    padded = data + bytes(IMAGE_MAX_BYTES - len(data) + 1)
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(padded)
    assert caught.value.reason == "too-large"
    assert "15 MB" in caught.value.detail


def test_other_image_formats_are_refused() -> None:
    for fmt in ("BMP", "TIFF", "ICO"):
        out = io.BytesIO()
        halves((32, 32)).save(out, fmt)
        with pytest.raises(UnsafeMedia) as caught:
            make_safe(out.getvalue())
        assert caught.value.reason == "unsupported-type"


# kind from the bytes only ----------------------------------------------------------------------


def test_the_kind_comes_from_the_bytes_never_a_name(tmp_path: Path) -> None:
    # nothing but the bytes (and how much memory it may use) goes in: no name, no type
    assert list(inspect.signature(make_safe).parameters) == ["data", "memory_budget"]
    looks_like_a_photo = tmp_path / "holiday.jpg"
    looks_like_a_photo.write_bytes(simple_pdf())
    safe = make_safe(looks_like_a_photo.read_bytes())
    assert safe.kind == "document"
    assert safe.content_type == "application/pdf"
    looks_like_a_pdf = tmp_path / "letter.pdf"
    looks_like_a_pdf.write_bytes(phone_photo((300, 200), orientation=1))
    assert make_safe(looks_like_a_pdf.read_bytes()).kind == "image"


@pytest.mark.parametrize(
    "data",
    [
        os.urandom(4096),
        b"<html><script>alert(1)</script></html>",
        b"MZ\x90\x00" + os.urandom(500),  # a Windows program
        b"PK\x03\x04" + os.urandom(500),  # a zip
        b"GIF89a",  # only a signature
    ],
)
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(UnsafeMedia):
        make_safe(data)


def test_empty_input_is_refused() -> None:
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(b"")
    assert caught.value.reason == "empty"


def test_anything_over_the_largest_limit_is_refused_unread() -> None:
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(b"\xff\xd8\xff" + bytes(VIDEO_MAX_BYTES))
    assert caught.value.reason == "too-large"


# documents -------------------------------------------------------------------------------------


def simple_pdf(**metadata: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if metadata:
        writer.add_metadata({f"/{k}": v for k, v in metadata.items()})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def loaded_pdf() -> bytes:
    """A PDF with everything a rewrite should drop, and a web link it should keep."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    writer.add_metadata({"/Author": "Mrs Smith", "/Title": "Trip to 12 Acacia Avenue"})
    writer.xmp_metadata = XMP.replace(b"51,30.2N", b"XMP-AUTHOR-MRS-SMITH")
    script = writer._add_object(
        DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert(JSPAYLOAD)"),
            }
        )
    )
    writer._root_object[NameObject("/OpenAction")] = script
    writer.add_attachment("notes.txt", b"CATALOG-ATTACHMENT-BYTES")
    attached = DecodedStreamObject()
    attached.set_data(b"ANNOTATION-ATTACHMENT-BYTES")
    attached[NameObject("/Type")] = NameObject("/EmbeddedFile")
    spec = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject("a.txt"),
            NameObject("/EF"): DictionaryObject({NameObject("/F"): writer._add_object(attached)}),
        }
    )
    rect = ArrayObject([NumberObject(0), NumberObject(0), NumberObject(10), NumberObject(10)])
    annotations = [
        {"/Subtype": NameObject("/FileAttachment"), "/FS": writer._add_object(spec)},
        {"/Subtype": NameObject("/Link"), "/A": script},
        {
            "/Subtype": NameObject("/Link"),
            "/A": DictionaryObject(
                {
                    NameObject("/S"): NameObject("/URI"),
                    NameObject("/URI"): TextStringObject("https://school.example/trip"),
                }
            ),
        },
    ]
    page[NameObject("/Annots")] = ArrayObject(
        writer._add_object(
            DictionaryObject(
                {
                    NameObject("/Type"): NameObject("/Annot"),
                    NameObject("/Rect"): rect,
                    **{NameObject(k): v for k, v in a.items()},
                }
            )
        )
        for a in annotations
    )
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): script})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_real_pdf_loses_its_author() -> None:
    data = simple_pdf(Author="Mrs Smith", Title="Ada's reading record")
    assert PdfReader(io.BytesIO(data)).metadata == {
        "/Producer": "pypdf",
        "/Author": "Mrs Smith",
        "/Title": "Ada's reading record",
    }
    safe = make_safe(data)
    assert safe.kind == "document"
    assert set(safe.variants) == {"full"}
    cleaned = safe.variants["full"]
    assert cleaned.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(cleaned))
    assert reader.metadata is None
    assert len(reader.pages) == 1
    assert b"Mrs Smith" not in cleaned
    assert b"reading record" not in cleaned


def test_a_pdf_loses_scripts_attachments_xmp_and_metadata_but_keeps_web_links() -> None:
    data = loaded_pdf()
    for needle in (b"JSPAYLOAD", b"CATALOG-ATTACHMENT", b"ANNOTATION-ATTACHMENT"):
        assert needle in data
    cleaned = make_safe(data).variants["full"]
    for needle in (
        b"JSPAYLOAD",
        b"JavaScript",
        b"OpenAction",
        b"CATALOG-ATTACHMENT",
        b"ANNOTATION-ATTACHMENT",
        b"EmbeddedFile",
        b"FileAttachment",
        b"XMP-AUTHOR",
        b"Mrs Smith",
        b"Acacia",
    ):
        assert needle not in cleaned, needle
    reader = PdfReader(io.BytesIO(cleaned))
    assert reader.metadata is None
    assert reader.xmp_metadata is None
    catalog = reader.trailer["/Root"].get_object()
    assert isinstance(catalog, DictionaryObject)
    assert set(catalog.keys()) == {"/Type", "/Pages"}
    page = reader.pages[0]
    assert "/AA" not in page
    annotations = page["/Annots"].get_object()
    assert isinstance(annotations, ArrayObject)
    links = [a.get_object() for a in annotations]
    assert [link.get("/A", {}).get("/URI") for link in links] == [
        None,
        "https://school.example/trip",
    ]


def test_a_fake_pdf_is_refused() -> None:
    for fake in (b"%PDF-", b"%PDF-1.7\n" + os.urandom(3000), b"%PDF-1.4\n%%EOF\n"):
        with pytest.raises(UnsafeMedia) as caught:
            make_safe(fake)
        assert caught.value.reason in {"damaged", "empty"}


def test_a_pdf_without_pages_is_refused() -> None:
    out = io.BytesIO()
    PdfWriter().write(out)
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(out.getvalue())
    assert caught.value.reason in {"damaged", "empty"}


@pytest.mark.parametrize("user_password", ["", "secret"])
def test_an_encrypted_pdf_is_refused(user_password: str) -> None:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt(user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(out.getvalue())
    assert caught.value.reason == "encrypted"
    assert "password" in caught.value.detail


def test_an_oversized_pdf_is_refused() -> None:
    data = simple_pdf()
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(data + b"%" * (DOCUMENT_MAX_BYTES - len(data) + 1))
    assert caught.value.reason == "too-large"


# videos ----------------------------------------------------------------------------------------


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def phone_video(brand: bytes = b"isom") -> bytes:
    where = box(b"\xa9xyz", b"\x00\x12\x15\xc7+51.5034-000.1276/")
    track = box(b"trak", box(b"tkhd", bytes(84)) + box(b"udta", where))
    apple = box(b"meta", bytes(4) + box(b"keys", b"com.apple.quicktime.location.ISO6709"))
    moov = box(b"moov", box(b"mvhd", bytes(100)) + track + box(b"udta", where) + apple)
    return (
        box(b"ftyp", brand + b"\x00\x00\x02\x00isomiso2mp41")
        + moov
        + box(b"uuid", b"\xbe\x7a\xcf\xcb\x97\xa9\x42\xe8\x9c\x71\x99\x94\x91\xe3\xaf\xac" + XMP)
        + box(b"mdat", b"FRAMES" * 1000)
    )


def top_boxes(data: bytes) -> list[bytes]:
    kinds, position = [], 0
    while position < len(data):
        (size,) = struct.unpack(">I", data[position : position + 4])
        kinds.append(data[position + 4 : position + 8])
        position += size
    assert position == len(data)
    return kinds


def test_a_video_keeps_its_streams_and_loses_its_location() -> None:
    data = phone_video()
    assert b"+51.5034" in data
    safe = make_safe(data)
    assert safe.kind == "video"
    assert safe.content_type == "video/mp4"
    assert set(safe.variants) == {"full"}
    clean = safe.variants["full"]
    assert len(clean) == len(data)  # every offset into mdat still holds
    assert top_boxes(clean) == [b"ftyp", b"moov", b"free", b"mdat"]
    assert clean.endswith(box(b"mdat", b"FRAMES" * 1000))
    for needle in (b"+51.5034", b"ISO6709", b"\xa9xyz", b"xmpmeta", b"udta", b"meta"):
        assert needle not in clean, needle
    assert b"tkhd" in clean
    assert b"mvhd" in clean


def test_a_quicktime_movie_is_a_video() -> None:
    assert make_safe(phone_video(b"qt  ")).content_type == "video/quicktime"


def test_a_heic_photo_is_not_taken_for_a_video() -> None:
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(phone_video(b"heic"))
    assert caught.value.reason == "unsupported-type"
    assert "HEIC" in caught.value.detail


@pytest.mark.parametrize(
    "broken",
    [
        phone_video()[:-10],  # truncated inside mdat
        phone_video() + b"junk after the last box",
        box(b"ftyp", b"isom\x00\x00\x02\x00") + box(b"mdat", b"x" * 100),  # no moov
        box(b"ftyp", b"isom\x00\x00\x02\x00") + struct.pack(">I", 4) + b"moov",
    ],
)
def test_a_damaged_video_is_refused(broken: bytes) -> None:
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(broken)
    assert caught.value.reason == "damaged"


def test_an_oversized_video_is_refused() -> None:
    data = phone_video()
    with pytest.raises(UnsafeMedia) as caught:
        make_safe(data + bytes(VIDEO_MAX_BYTES - len(data) + 1))
    assert caught.value.reason == "too-large"


# what is stored --------------------------------------------------------------------------------


async def test_no_gps_or_other_metadata_in_any_stored_image(tmp_path: Path) -> None:
    """The issue's test: store the safe variants, then read the stored bytes off the disk."""
    root = tmp_path / "media"
    store = await FilesystemMediaStore.open(root)
    uploads = {
        "photo": phone_photo(),
        "sideways": phone_photo((1200, 900), orientation=8),
        "upright": phone_photo((640, 480), orientation=1),
    }
    for name, upload in uploads.items():
        safe: SafeMedia = make_safe(upload)
        for variant, data in safe.variants.items():
            await store.put(
                f"{name}-{variant}",
                data,
                school_id="school-1",
                owner="staff-1",
                content_type=safe.content_type,
            )
    await store.close()

    stored = sorted(root.rglob("*.data"))
    assert len(stored) == 2 * len(uploads)
    for path in stored:
        data = path.read_bytes()
        assert_clean_jpeg(data)
        assert b"PhoneMaker" not in data
        assert b"Acacia" not in data
        assert longest_side(data) <= FULL_SIZE
    # and nothing stored beside them carries it either
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for needle in (b"Exif", b"PhoneMaker", b"Acacia", b"xmpmeta"):
                assert needle not in content
