#!/usr/bin/env python3
"""Writes icons/icon.png: the app's 256x256 RGBA icon (a fuel-drop on a blue tile).

Standard library only (zlib, struct), so it runs anywhere: python3 icons/make-icon.py
"""
import os
import struct
import zlib

SIZE = 256
BACKGROUND = (22, 78, 160, 255)
DROP = (255, 196, 0, 255)


def pixel(x, y):
    # Rounded tile: transparent outside a radius-40 corner.
    r = 40
    cx = min(max(x, r), SIZE - 1 - r)
    cy = min(max(y, r), SIZE - 1 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return (0, 0, 0, 0)
    # A drop: a circle with a triangle on top.
    dx, dy = x - 128, y - 150
    if dx * dx + dy * dy <= 60 * 60:
        return DROP
    if 40 <= y <= 150 and abs(dx) <= (y - 40) * 60 // 110:
        return DROP
    return BACKGROUND


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


rows = b"".join(
    b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(SIZE)) for y in range(SIZE)
)
png = (
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(rows, 9))
    + chunk(b"IEND", b"")
)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "icon.png"), "wb") as f:
    f.write(png)
