"""QR codes as inline SVG, drawn here rather than fetched from anyone."""

from __future__ import annotations

import io

import segno


def qr_svg(text: str, *, scale: int = 4, title: str = "QR code") -> str:
    qr = segno.make(text, error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", xmldecl=False, svgns=True, scale=scale, title=title)
    return out.getvalue().decode()
