"""Photos as phones and scanners produce them, for upload tests."""

import io
import struct
import zlib

from PIL import Image


def photo_bytes(
    width=480, height=600, fmt="JPEG", color=(200, 210, 230), exif_orientation=None
) -> bytes:
    image = Image.new("RGB", (width, height), color)
    # Some noise so the JPEG is not suspiciously small.
    for x in range(0, width, 7):
        for y in range(0, height, 11):
            image.putpixel((x, y), ((x * 3) % 255, (y * 5) % 255, (x + y) % 255))
    out = io.BytesIO()
    kwargs = {}
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A real PNG of width × height grey pixels, all zero: a few hundred KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = bytes(1 + width)  # filter byte, then one byte per pixel
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
