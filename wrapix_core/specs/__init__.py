"""Specs: markdown files in ``specs/`` parsed into models, the README index, the board
that joins them with issues, and the live watcher that keeps the board current.

Entry points: :func:`~wrapix_core.specs.parser.read_spec`,
:func:`~wrapix_core.specs.index.read_index`, :func:`~wrapix_core.specs.board.load_board`,
:class:`~wrapix_core.specs.watcher.WorkspaceWatcher`.
"""
