"""``python -m dayao_sscard.pdf_worker``: prints the HTML documents it is sent, in turn.

On stdin, each document is its length (8 bytes, big-endian) and its UTF-8 text; on stdout,
each PDF the same way. It ends when stdin does (its parent is done, or gone). It needs no
Django: see ``dayao_sscard.pdf.pdf_from_parts``.
"""

import struct
import sys

from dayao_sscard.pdf import pdf_from_html

HEADER = struct.Struct(">Q")


def main() -> None:
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while header := source.read(HEADER.size):
        (size,) = HEADER.unpack(header)
        pdf = pdf_from_html(source.read(size).decode("utf-8"))
        sink.write(HEADER.pack(len(pdf)))
        sink.write(pdf)
        sink.flush()


if __name__ == "__main__":
    main()
