"""Egress control: which hosts a sandbox may reach (``sandbox.network``).

Modes: ``open`` (the runtime's ordinary network), ``none`` (``--network none``: only
loopback) and ``allowlist``. An allowlist sandbox also runs with ``--network none``; its
only way out is a Unix socket in a per-sandbox directory on the host, mounted into it,
where a host-side proxy (:mod:`.proxy`, run by :mod:`.daemon`, one process per sandbox)
accepts HTTP ``CONNECT`` and plain HTTP requests and checks each destination *name*
against the list (:mod:`.policy`). Inside, :mod:`.forwarder` listens on
``127.0.0.1:3128`` and relays to that socket, with ``HTTP_PROXY``/``HTTPS_PROXY`` set,
so tools that honour a proxy work unchanged (Anthropic's sandbox-runtime design; it
needs no privileges).

Threat model. The agent is assumed hostile (a prompt injection may drive it):

- names are resolved by the proxy on the host, never inside (there is no DNS inside),
  and an IP destination is refused unless the list names that IP; a name that resolves
  to a loopback, link-local or unspecified address is refused too (the host's own
  services and cloud metadata endpoints stay out of reach);
- raw TCP, UDP, DNS and IPv6 go nowhere: the sandbox's network namespace has only
  loopback, so nothing but the proxy socket leads out — a program that ignores the
  proxy variables gets no network, not an unfiltered one;
- failing closed: the proxy is started and answering before the container is created,
  and any failure to set it up stops the launch; a proxy that dies leaves the sandbox
  with no way out (the forwarder answers 502, says so in a notification and on
  ``wrapix net log``), never with an open one;
- what the list does not do: an allowed host is a channel (an agent allowed
  ``github.com`` can push the workspace to any repository there); TLS is not inspected;
  ``git`` over SSH does not go through an HTTP proxy, so it fails (use HTTPS remotes).

Denied connections are appended to a bounded log per sandbox under wrapix's state
directory (never the workspace) and announced once per host (:mod:`.log`).
"""
