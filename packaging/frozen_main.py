"""Entry point of the frozen (PyInstaller) build."""

import multiprocessing
import sys

from paperdesk.cli.main import main

if __name__ == "__main__":
    # The parallel index rebuild spawns workers; in a frozen app each re-runs this file, and
    # freeze_support() turns such a child into the worker instead of a second PaperDesk.
    multiprocessing.freeze_support()
    sys.exit(main())
