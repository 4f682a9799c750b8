"""Entry point of the frozen (PyInstaller) build."""

import sys

from paperdesk.cli.main import main

sys.exit(main())
