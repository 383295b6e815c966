"""Photos as phones and scanners produce them, for upload tests."""

import io

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
