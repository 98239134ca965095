"""Checks that headless Chromium rendered a run report or a certificate: a 1000 px wide PNG with colour on it.

    python3 .ci/check_screenshot.py PNG HTML [report|certificate]

Reads the PNG's pixels with zlib only (no imaging library needed): the page must not be blank, its parts must be
in the HTML, and a report's chart lines (a certificate's verdict badges and pass-rate bars) must put a fair share
of coloured pixels on the page.
"""
import struct
import sys
import zlib

png, html = sys.argv[1], sys.argv[2]
page = sys.argv[3] if len(sys.argv) > 3 else "report"
needles, least = {
    "report": (("<svg", "Power per device", "Clearing price", "Battery state of charge", "Room temperature", "assertion"), 2000),
    "certificate": (("GridRig conformance certificate", "Requirements", "SHA-256", "run report", "hello.software"), 100),
}[page]
data = open(png, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{png}: not a PNG"
width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
assert width == 1000 and height >= 1000, f"{png}: {width}x{height}"
chunks, offset = [], 8
while offset < len(data):
    length, kind = struct.unpack(">I4s", data[offset:offset + 8])
    if kind == b"IDAT":
        chunks.append(data[offset + 8:offset + 8 + length])
    offset += 12 + length
raw = zlib.decompress(b"".join(chunks))
channels = {2: 3, 6: 4}[colour]
stride = width * channels + 1
coloured = 0
previous = bytearray(stride - 1)
for row in range(height):
    line = bytearray(raw[row * stride + 1:(row + 1) * stride])
    kind = raw[row * stride]
    for i in range(len(line)):  # undo the PNG row filter
        left = line[i - channels] if i >= channels else 0
        up = previous[i]
        corner = previous[i - channels] if i >= channels else 0
        if kind == 1: line[i] = (line[i] + left) & 255
        elif kind == 2: line[i] = (line[i] + up) & 255
        elif kind == 3: line[i] = (line[i] + (left + up) // 2) & 255
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
    previous = line
    for x in range(0, width * channels, channels * 4):
        r, g, b = line[x], line[x + 1], line[x + 2]
        if max(r, g, b) - min(r, g, b) > 60:
            coloured += 1
text = open(html, encoding="utf-8").read()
for needle in needles:
    assert needle in text, f"{html}: no {needle!r}"
assert coloured > least, f"{png}: only {coloured} coloured samples; the page did not render"
print(f"{page} rendered: {width}x{height}, {coloured} coloured samples")
