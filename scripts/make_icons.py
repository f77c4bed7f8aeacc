#!/usr/bin/env python3
"""Draws Schoolgate's app icons (a friendly monster on the brand colour) once, into static/icons.

There is no build step: the PNGs are committed, and this script is how they were made. Run it
again after changing the drawing below; one description of the shapes makes both the SVG
(the browser tab's icon) and the PNGs (home screens, which want bitmaps: iOS takes no SVG).

    uv run python scripts/make_icons.py

A maskable icon is cropped by the phone to a circle or a rounded square, so the monster stays
inside the middle 80% (the safe zone) and the background runs to the edges.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

ICONS = (
    Path(__file__).resolve().parent.parent / "services/gateway/src/schoolgate_gateway/static/icons"
)
BRAND = "#b3401a"  # style.css --brand
INK = "#4a1d08"
BODY = "#ffc857"
LIGHT = "#ffe7b3"
SCALE = 4  # drawn this many times bigger, then shrunk: smooth edges without an SVG renderer

# (kind, geometry, fill, outline, line width) in a 100 by 100 box
Shape = tuple[str, tuple[float, ...], str | None, str | None, float]
MONSTER: list[Shape] = [
    ("polygon", (33, 38, 27, 17, 45, 31), LIGHT, INK, 3),
    ("polygon", (67, 38, 73, 17, 55, 31), LIGHT, INK, 3),
    ("ellipse", (50, 57, 29, 26), BODY, INK, 3),
    ("ellipse", (50, 71, 12, 6), LIGHT, None, 0),
    ("ellipse", (40, 51, 8, 8), "#ffffff", INK, 2),
    ("ellipse", (60, 51, 8, 8), "#ffffff", INK, 2),
    ("ellipse", (41.5, 52.5, 3.8, 3.8), "#222222", None, 0),
    ("ellipse", (61.5, 52.5, 3.8, 3.8), "#222222", None, 0),
    ("ellipse", (40.5, 51, 1.2, 1.2), "#ffffff", None, 0),
    ("ellipse", (60.5, 51, 1.2, 1.2), "#ffffff", None, 0),
    # a smile: centre x, centre y, radius, from and to angle (degrees, clockwise from 3 o'clock)
    ("arc", (50, 58, 10, 25, 155), None, INK, 3),
]
# The same monster asleep, for the page shown when there is no connection.
SLEEPY: list[Shape] = [
    *MONSTER[:4],
    ("arc", (40, 49, 6, 20, 160), None, INK, 2.5),
    ("arc", (60, 49, 6, 20, 160), None, INK, 2.5),
    ("ellipse", (50, 67, 4, 3), INK, None, 0),
    ("polyline", (72, 14, 80, 14, 72, 22, 80, 22), None, INK, 2.5),
    ("polyline", (81, 6, 87, 6, 81, 12, 87, 12), None, INK, 2),
]


def svg(shapes: list[Shape], background: str) -> str:
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">', background]
    for kind, g, fill, outline, width in shapes:
        paint = f'fill="{fill or "none"}"'
        if outline:
            paint += f' stroke="{outline}" stroke-width="{width}" stroke-linejoin="round"'
        if kind in {"polygon", "polyline"}:
            points = " ".join(f"{x:g},{y:g}" for x, y in zip(g[::2], g[1::2], strict=True))
            parts.append(f'<{kind} points="{points}" {paint} stroke-linecap="round"/>')
        elif kind == "ellipse":
            parts.append(
                f'<ellipse cx="{g[0]:g}" cy="{g[1]:g}" rx="{g[2]:g}" ry="{g[3]:g}" {paint}/>'
            )
        else:
            cx, cy, r, start, end = g
            x1, y1 = cx + r * math.cos(math.radians(start)), cy + r * math.sin(math.radians(start))
            x2, y2 = cx + r * math.cos(math.radians(end)), cy + r * math.sin(math.radians(end))
            parts.append(
                f'<path d="M{x1:.2f} {y1:.2f} A{r:g} {r:g} 0 0 1 {x2:.2f} {y2:.2f}" {paint} '
                'stroke-linecap="round"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png(size: int, *, rounded: bool, zoom: float = 1.0) -> Image.Image:
    """The icon at ``size`` px; ``zoom`` < 1 shrinks the monster towards the middle."""
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    unit = big / 100
    radius = 22 * unit if rounded else 0
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=radius, fill=BRAND)

    def at(x: float, y: float) -> tuple[float, float]:
        return ((50 + (x - 50) * zoom) * unit, (50 + (y - 50) * zoom) * unit)

    for kind, g, fill, outline, width in MONSTER:
        line = round(width * zoom * unit)
        if kind == "polygon":
            points = [at(x, y) for x, y in zip(g[::2], g[1::2], strict=True)]
            draw.polygon(points, fill=fill, outline=outline, width=line if outline else 0)
        elif kind == "ellipse":
            (x0, y0), (x1, y1) = at(g[0] - g[2], g[1] - g[3]), at(g[0] + g[2], g[1] + g[3])
            draw.ellipse((x0, y0, x1, y1), fill=fill, outline=outline, width=line)
        else:
            cx, cy, r, start, end = g
            (x0, y0), (x1, y1) = at(cx - r, cy - r), at(cx + r, cy + r)
            draw.arc((x0, y0, x1, y1), start, end, fill=outline, width=line)
    small = image.resize((size, size), Image.Resampling.LANCZOS)
    # a few dozen colours (edges included) look the same and weigh a third as much
    return small.quantize(colors=64, method=Image.Quantize.FASTOCTREE)


def main() -> None:
    ICONS.mkdir(exist_ok=True)
    tile = f'<rect width="100" height="100" rx="22" fill="{BRAND}"/>'
    (ICONS / "icon.svg").write_text(svg(MONSTER, tile), encoding="utf-8")
    # a tile of light-scheme --soft: the dark ink of the sleep lines shows in both schemes
    bed = '<rect width="100" height="100" rx="26" fill="#fbefe3"/>'
    (ICONS / "sleepy-monster.svg").write_text(svg(SLEEPY, bed), encoding="utf-8")
    for size in (192, 512):
        png(size, rounded=True).save(ICONS / f"icon-{size}.png", optimize=True)
    # the phone crops these itself: full bleed, the monster within the safe zone
    png(512, rounded=False, zoom=0.8).save(ICONS / "maskable-512.png", optimize=True)
    png(180, rounded=False, zoom=0.85).save(ICONS / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
