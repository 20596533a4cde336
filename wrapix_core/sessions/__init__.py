"""Sessions: every agent on a branch of its own, in a repository of its own.

A session is the branch ``wrapix/NAME`` in a shared clone of the project under wrapix's
data directory (``<data>/sessions/<project-key>/<NAME>/``): objects are borrowed
read-only from the project through ``objects/info/alternates``, new ones stay in the
session's repository, and nothing of the project's ``.git`` (refs, config, hooks) is
writable from its sandbox. Modules, one job each:

- :mod:`.model` — :class:`~.model.Session`, :class:`~.model.SessionStats`, errors;
- :mod:`.gitcmd` — host git on the project and on a session (:mod:`wrapix_core.safe_git`);
- :mod:`.store` — where sessions live, listing and loading them;
- :mod:`.create` — creating one (O(checkout), never O(history)); :mod:`.copyfiles` —
  ``[session] copy``;
- :mod:`.stats` — branch statistics and whether it merges cleanly now;
- :mod:`.watch` — the paths whose changes move those statistics, and a live stream;
- :mod:`.diff` — base...session, committed and uncommitted apart;
- :mod:`.merge` — landing a session on its base in the user's checkout;
- :mod:`.discard` — removing one; :mod:`.instruct` — typing into the running agent.

Nothing here imports the sandbox launcher at module level: the CLI and the TUI load
these lazily.
"""
