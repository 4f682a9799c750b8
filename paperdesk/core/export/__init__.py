"""Export to Markdown (Obsidian-friendly, safe to re-export over the user's edits) and BibTeX.

Public API, used by the CLI and the GUI (File > Export, the `y` key):
  export_markdown(lib, folder, ids, *, one_file=None, template=None, dry_run=False, progress=None,
                  cancelled=None, title=None) -> ExportReport
  export_bibtex(lib, ids, path, *, unicode="keep"|"latex", key_pattern=None) -> BibtexReport
  markdown_link(record) -> str
Nothing here imports Qt; jinja2 is imported only when a Markdown export runs.
"""

from paperdesk.core.export.bibtex import export_bibtex
from paperdesk.core.export.links import markdown_link
from paperdesk.core.export.markdown import export_markdown
from paperdesk.core.export.report import BibtexReport, ExportError, ExportItem, ExportReport

__all__ = ["BibtexReport", "ExportError", "ExportItem", "ExportReport", "export_bibtex", "export_markdown",
           "markdown_link"]
