"""Writes page.png: an 8192x8192 grey PNG (about 100 KB), a white page with a dark 7 in the middle, row by row.

The case of issue 16 (a valid 8192x8192 PNG took about 1 GB to predict on). Measure with:
    python3 tools/huge-png.py page.png
    /usr/bin/time -v dotnet run -c Release --project src/Dendrite.Cli -- predict --model m.dendrite page.png
"""
import struct
import sys
import zlib

side = 8192


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


z = zlib.compressobj(9)
parts = []
for y in range(side):
    row = bytearray([0]) + bytearray([240]) * side
    if 2600 <= y < 2900:
        row[1 + 2700:1 + 5500] = bytes([20]) * 2800
    elif 2900 <= y < 5600:
        x = 5500 - (y - 2900) * 2500 // 2700
        row[1 + x - 150:1 + x + 150] = bytes([20]) * 300
    parts.append(z.compress(bytes(row)))
parts.append(z.flush())
with open(sys.argv[1] if len(sys.argv) > 1 else "page.png", "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
