"""Real PDF files for the tests, made as a report system makes them: text drawn on pages (matplotlib's PDF backend,
fonts embedded with their Unicode map, so Cyrillic and Kazakh letters are text), a scanned page (a picture, no text
layer), a password-protected copy (pypdf)."""

from __future__ import annotations

import io


def pdf(*pages: list[str]) -> bytes:
    """A PDF with one page per list of lines, each line drawn as text."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    out = io.BytesIO()
    with PdfPages(out) as document:
        for lines in pages:
            figure = Figure(figsize=(8.27, 11.7))  # A4
            for n, line in enumerate(lines):
                figure.text(0.06, 0.94 - n * 0.03, line, fontsize=10)
            document.savefig(figure)
    return out.getvalue()


def scanned_pdf() -> bytes:
    """A page that is a picture only, as a scanner makes it: no text layer."""
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.27, 11.7))
    figure.figimage(np.random.default_rng(7).random((200, 150)), xo=40, yo=40)
    out = io.BytesIO()
    figure.savefig(out, format="pdf")
    return out.getvalue()


def encrypted(data: bytes, password: str = "secret") -> bytes:  # noqa: S107 (a test file's password)
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def handmade_pdf(content: bytes) -> bytes:
    """A one-page PDF written by hand around one content stream, in Helvetica without a Unicode map - as small report
    writers make them: what pypdf gives is what the stream's strings hold (a byte no glyph name maps is a control
    character, as a font without ToUnicode gives)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
