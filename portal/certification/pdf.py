"""The certificate as a PDF (fpdf2): real text (the holder's name, the programme, the cohort,
the issue date and the code) and a QR code (segno) that opens the verification page with the
code filled in. No Flask: the caller passes the verification URL."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from fpdf import FPDF

from portal.certification.certificates import certificate_date, display_code
from portal.models import Certificate

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _fonts(pdf: FPDF) -> str:
    """DejaVu Sans (every script of a person's name) when the system has it, else Helvetica."""
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if regular.exists() and bold.exists():
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        return "DejaVu"
    return "Helvetica"


def _text(family: str, value: str) -> str:
    if family == "Helvetica":  # core fonts: Latin-1 only
        return value.encode("latin-1", "replace").decode("latin-1")
    return value


def render(cert: Certificate, verify_url: str) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(f"Certificate {display_code(cert.code)}")
    pdf.set_author("Digital Peer Support Certification programme")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    family = _fonts(pdf)
    width = pdf.w - 40
    pdf.set_draw_color(40, 70, 110)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)

    def line(text: str, size: int, style: str = "", gap: float = 4):
        pdf.set_font(family, style, size)
        pdf.set_x(20)
        pdf.multi_cell(width, size * 0.5, _text(family, text), align="C")
        pdf.ln(gap)

    pdf.set_y(28)
    line("Certificate", 30, "B", 6)
    line("This certifies that", 14)
    line(cert.holder_name, 26, "B", 6)
    line("has completed the", 14)
    line(cert.programme, 16, "B")
    line(f"Cohort: {cert.cohort_name}", 13, gap=2)
    line(f"Issued on {certificate_date(cert.issued_at)}", 13, gap=8)
    pdf.set_font(family, "B", 14)
    pdf.set_xy(20, pdf.h - 62)
    pdf.multi_cell(width - 50, 7, _text(family, f"Certificate code: {display_code(cert.code)}"))
    pdf.set_font(family, "", 11)
    pdf.set_x(20)
    pdf.multi_cell(width - 50, 6, _text(family, f"Check that this certificate is genuine: {verify_url}"))

    qr = io.BytesIO()
    segno.make(verify_url, error="m").save(qr, kind="png", scale=6, border=2)
    qr.seek(0)
    pdf.image(qr, x=pdf.w - 62, y=pdf.h - 70, w=45, h=45, alt_text=f"QR code: {verify_url}")
    return bytes(pdf.output())
