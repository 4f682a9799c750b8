"""PDFs of papers. ``document`` is the only module that talks to pdfium (pypdfium2)."""

from paperdesk.core.pdf.document import (
    PDFIUM_LOCK,
    Annotation,
    Link,
    PdfBroken,
    PdfDocument,
    PdfEncrypted,
    PdfError,
)

__all__ = ["PDFIUM_LOCK", "Annotation", "Link", "PdfBroken", "PdfDocument", "PdfEncrypted", "PdfError"]
