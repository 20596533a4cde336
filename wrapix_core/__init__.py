"""wrapix core: everything that is not UI.

This package must stay cheap to import (the notify client imports from it on every
call) and must never import Textual or ``wrapix_tui``; a test enforces both.
"""

__version__ = "0.1.0"
