"""Remote Podman hosts over SSH (``[hosts.NAME]``): nothing on the remote side but Podman's
API socket, sshd and git.

- :mod:`.target`: a configured host as wrapix reaches it (URL, identity, ``podman`` and
  ``ssh`` options, its own timeout);
- :mod:`.probe`: reachability, Podman version and sandbox count, bounded by that timeout;
- :mod:`.check`: ``wrapix hosts check``: each step from TCP to Podman, what is wrong, the fix;
- :mod:`.fleet`: the runtime of each host, and listing sandboxes on all of them at once
  (one slow host never holds up the others).
"""
