"""PaperDesk: read and triage research-paper digests on the desktop."""

__version__ = "0.1.0"
APP_ID = "io.github.paperdesk.PaperDesk"
APP_NAME = "PaperDesk"
