"""Makes the shared helpers of the tabular tests importable (`from tabular_helpers import ...`).

There is no ``__init__.py`` in tests/, so this folder is put on ``sys.path`` explicitly.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
