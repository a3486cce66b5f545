"""Makes the shared strategies of the autodiff tests importable (`from autodiff_strategies import ...`).

There is no ``__init__.py`` in tests/, so this folder is put on ``sys.path`` explicitly: the tests then
import the helpers whatever pytest's import mode.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
