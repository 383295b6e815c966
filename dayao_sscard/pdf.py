"""Every printed sheet (交接单, 签收表, 发放台账…) is rendered here, one way.

WeasyPrint lays out an HTML template with the print stylesheet of ``templates/pdf/base.html``
(A4, the Noto CJK font embedded, a header and page numbers on every page). The font is
the system's (Debian ``fonts-noto-cjk``), found by fontconfig; WeasyPrint embeds the
subset of glyphs used.
"""

import logging

from django.template.loader import render_to_string

# WeasyPrint reports each layout step at INFO; a job prints its own progress instead.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# WeasyPrint caches fonts per FontConfiguration: one per process, not one per sheet.
_font_config = None


def _fonts():
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


def pdf_from_template(template: str, context: dict) -> bytes:
    """The PDF of ``template`` (extending ``pdf/base.html``) with ``context``."""
    # Imported here: WeasyPrint (and Pango behind it) is heavy, and most processes never print.
    from weasyprint import HTML

    html = render_to_string(template, context)
    return HTML(string=html, base_url=None).write_pdf(font_config=_fonts())
