"""Small real files for upload tests, built here byte by byte."""

from __future__ import annotations

import struct
import zlib


def tiny_pdf(title: str = "Приказ о назначении") -> bytes:
    """A valid one-page PDF (correct cross-reference table) carrying `title` as metadata."""
    title_hex = title.encode("utf-16-be").hex().upper()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        f"<< /Title <FEFF{title_hex}> >>".encode(),
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size, all white."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def windows_exe() -> bytes:
    """The start of a Windows program (MZ header, PE signature): what a renamed .exe holds."""
    dos_header = b"MZ" + b"\x90\x00" * 29 + struct.pack("<I", 0x80)
    return dos_header.ljust(0x80, b"\x00") + b"PE\x00\x00" + b"\x00" * 512


def big_pdf(size: int) -> bytes:
    """A PDF header followed by padding: a PDF by type, `size` bytes long."""
    head = tiny_pdf()
    return head + b"%" + b"0" * (size - len(head) - 1)
