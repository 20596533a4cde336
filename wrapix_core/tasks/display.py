"""Untrusted text made safe to print on a terminal: the rule's old home for the CLI. It
lives in :mod:`wrapix_core.untrusted` (:func:`~wrapix_core.untrusted.line`,
:func:`~wrapix_core.untrusted.block`); these names stay for code written before the move.
"""

from wrapix_core.untrusted import block, line

__all__ = ["block", "line"]
