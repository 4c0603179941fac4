"""HTML report -> PDF with WeasyPrint (imported here only, so the other jobs stay light).

The report is self-contained (inline CSS and SVG); the URL fetcher refuses everything except ``data:``
URLs, so rendering never touches the network or the file system beyond the HTML itself. Fonts come from
the system (Liberation Sans / DejaVu, metric-compatible with Arial, which the figures are laid out for).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def offline_fetcher():
    """A WeasyPrint URL fetcher that serves ``data:`` URLs only: http(s), ftp and file URLs are refused
    (WeasyPrint then skips the resource with a warning), so rendering never touches the network."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


def html_to_pdf(html: str, pdf_path: str | os.PathLike, *, base_url: str | None = None) -> None:
    """Write ``html`` as an A4 PDF to ``pdf_path`` (atomically: temporary file and rename)."""
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=offline_fetcher(), media_type="print")
    pdf_path = Path(pdf_path)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{pdf_path.name}.", dir=pdf_path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a published report is readable like any file
    try:
        document.write_pdf(tmp)
        os.replace(tmp, pdf_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def html_file_to_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike) -> None:
    html = Path(html_path).read_text(encoding="utf-8")
    html_to_pdf(html, pdf_path, base_url=str(Path(html_path).resolve().parent) + os.sep)
