"""Issues (beads): the model, the readiness rule, and the stores (bd CLI or built-in JSONL).

Start at :func:`~wrapix_core.tasks.store.open_store` for a workspace's
:class:`~wrapix_core.tasks.store.TaskStore`, and
:func:`~wrapix_core.tasks.readiness.compute_readiness` for what is ready and what blocks
the rest.
"""
