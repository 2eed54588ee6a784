"""Entry point of the in-sandbox fork-server: `python3 -I -S .../vtbox/__main__.py CONFIG_JSON`."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from vtbox.server import main  # noqa: E402 - the path above makes the package importable

main()
