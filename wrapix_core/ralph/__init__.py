"""Ralph: a spec becomes issues, and each issue is worked by a fresh agent session.

Where things live (one job per module):

- :mod:`~wrapix_core.ralph.state` — ``.wrapix/ralph/`` (``RALPH_DIR``): config, the
  current label, per-label state, running steps.
- :mod:`~wrapix_core.ralph.start` — ``ralph start`` / ``ralph use``: creating that state
  and the ``specs/`` index.
- :mod:`~wrapix_core.ralph.templates` — the prompts (package data, project copies) and
  their strict rendering.
- :mod:`~wrapix_core.ralph.signals` — reading an agent's final result and its signal.
- :mod:`~wrapix_core.ralph.agent` — running one agent session (in a sandbox or on the
  host), logging it, the watchdog.
- :mod:`~wrapix_core.ralph.terminal` — sessions that need the person's terminal (the plan
  interview, ``$EDITOR``).
- :mod:`~wrapix_core.ralph.scope` — which issues belong to a label, what is next.
- :mod:`~wrapix_core.ralph.lock` — file locks between loops, across processes.
- :mod:`~wrapix_core.ralph.events` — the typed results and events the CLI and the TUI render.
- :mod:`~wrapix_core.ralph.engine` — ``plan``, ``ready``, ``step`` and ``loop``.
- :mod:`~wrapix_core.ralph.clarify` — the clarify inbox (``ralph msg``) and its notification.
- :mod:`~wrapix_core.ralph.review` — the plan review gate (``ralph review``).
- :mod:`~wrapix_core.ralph.status` — ``ralph status``.
- :mod:`~wrapix_core.ralph.logs` — step logs and their readable rendering.

Nothing here imports Textual: the TUI calls the same functions the ``ralph`` CLI calls.
"""
