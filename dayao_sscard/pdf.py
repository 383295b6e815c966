"""Every printed sheet (交接单, 签收表, 发放台账…) is rendered here, one way.

WeasyPrint lays out an HTML template with the print stylesheet of ``templates/pdf/base.html``
(A4, the Noto CJK font embedded, a header and page numbers on every page). The font is
the system's (Debian ``fonts-noto-cjk``), found by fontconfig; WeasyPrint embeds the
subset of glyphs used.

A long document (a township's 发放台账) is printed in parts, one per village, in worker
processes side by side (``dayao_sscard.pdf_worker``), then joined and numbered as one
(``pdf_from_parts``): WeasyPrint lays out one long table in time that grows faster than
its length, and uses one core.
"""

import io
import logging
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from django.http import HttpResponse
from django.template.loader import render_to_string

# WeasyPrint reports each layout step at INFO; a job prints its own progress instead.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
# pikepdf announces its logging bridge at INFO on first use: noise in a command's output.
logging.getLogger("pikepdf._core").setLevel(logging.WARNING)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORKER_COMMAND = [sys.executable, "-m", "dayao_sscard.pdf_worker"]
_HEADER = struct.Struct(">Q")  # dayao_sscard.pdf_worker's framing: a length, then the bytes

# WeasyPrint caches fonts per FontConfiguration: one per process, not one per sheet.
_font_config = None

PAGE_NUMBERS_HTML = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page {{ size: A4 {orientation}; margin: {margin};
  @bottom-center {{ content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; font-size: 8pt;
    font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; }} }}
div {{ break-after: page; }} div:last-child {{ break-after: auto; }}
</style></head><body>{pages}</body></html>"""


def _fonts():
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


def pdf_from_html(html: str) -> bytes:
    """The PDF of an HTML document. Needs no Django: worker processes run it."""
    # Imported here: WeasyPrint (and Pango behind it) is heavy, and most processes never print.
    from weasyprint import HTML

    return HTML(string=html, base_url=None).write_pdf(font_config=_fonts())


def pdf_from_template(template: str, context: dict) -> bytes:
    """The PDF of ``template`` (extending ``pdf/base.html``) with ``context``."""
    return pdf_from_html(render_to_string(template, context))


def pdf_from_parts(
    parts: Sequence[str],
    *,
    workers: int = 1,
    orientation: str = "portrait",
    margin: str = "18mm 12mm 16mm 12mm",
    on_part_done: Callable[[int, int], None] | None = None,
) -> bytes:
    """One PDF of several HTML documents (parts, each extending ``pdf/base.html`` without
    page numbers), rendered by up to ``workers`` processes, joined in order and numbered
    "第 n 页 / 共 m 页" across all pages, in the bottom margin of ``margin`` (the parts'
    own ``@page`` margin). ``on_part_done(done, total)`` after each part.
    """
    rendered = _render_parts(parts, workers=workers, on_part_done=on_part_done)
    import pikepdf

    # qpdf copies a page's stream data from its source when the target is saved: every
    # source stays open until then.
    with ExitStack() as sources:
        joined = sources.enter_context(pikepdf.new())
        for data in rendered:
            joined.pages.extend(sources.enter_context(pikepdf.open(io.BytesIO(data))).pages)
        numbers = sources.enter_context(
            pikepdf.open(io.BytesIO(_page_numbers(len(joined.pages), orientation, margin)))
        )
        for page, number in zip(joined.pages, numbers.pages, strict=True):
            page.add_overlay(number)
        out = io.BytesIO()
        joined.save(out)
    return out.getvalue()


def _render_parts(
    parts: Sequence[str], *, workers: int, on_part_done: Callable[[int, int], None] | None
) -> list[bytes]:
    total, done = len(parts), 0
    results: list[bytes] = [b""] * total
    workers = max(1, min(workers, total))
    lock = threading.Lock()

    def finished(index: int, pdf: bytes) -> None:
        nonlocal done
        with lock:
            results[index] = pdf
            done += 1
            if on_part_done:
                on_part_done(done, total)

    if workers == 1:
        for index, html in enumerate(parts):
            finished(index, pdf_from_html(html))
        return results
    # The longest parts first, so that no worker is left alone with a big one at the end.
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in sorted(range(total), key=lambda i: -len(parts[i])):
        pending.put(index)

    def serve() -> None:
        """One worker process, fed parts until none are left."""
        with _worker_process() as worker:
            while True:
                try:
                    index = pending.get_nowait()
                except queue.Empty:
                    return
                finished(index, _exchange(worker, parts[index].encode("utf-8")))

    with ThreadPoolExecutor(max_workers=workers) as threads:
        for started in [threads.submit(serve) for _ in range(workers)]:
            started.result()
    return results


@contextmanager
def _worker_process() -> Iterator[subprocess.Popen]:
    """``python -m dayao_sscard.pdf_worker``: a plain child process, not ``multiprocessing``,
    whose children a Celery worker's (daemonic) pool process may not start. It gets HTML and
    gives back bytes; it never touches Django, the database or the job's heartbeat thread."""
    worker = subprocess.Popen(
        WORKER_COMMAND,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )
    try:
        yield worker
    except BaseException:
        worker.kill()
        raise
    finally:
        with suppress(BrokenPipeError):
            worker.stdin.close()
        worker.wait(timeout=60)
    if worker.returncode != 0:
        raise RuntimeError(f"PDF worker process ended with status {worker.returncode}")


def _exchange(worker: subprocess.Popen, html: bytes) -> bytes:
    worker.stdin.write(_HEADER.pack(len(html)))
    worker.stdin.write(html)
    worker.stdin.flush()
    header = worker.stdout.read(_HEADER.size)
    if len(header) != _HEADER.size:
        raise RuntimeError("PDF worker process ended before answering (see its error above)")
    (size,) = _HEADER.unpack(header)
    return worker.stdout.read(size)


def _page_numbers(count: int, orientation: str, margin: str) -> bytes:
    """``count`` empty pages carrying only their numbers, laid over the joined parts."""
    pages = "<div></div>" * count
    return pdf_from_html(
        PAGE_NUMBERS_HTML.format(orientation=orientation, margin=margin, pages=pages)
    )


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    """A printed sheet shown in the browser's viewer. It names residents: no browser or
    proxy cache keeps a copy."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "private, no-store"
    return response
