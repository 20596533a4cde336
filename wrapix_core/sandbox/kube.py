"""The launch plan as a Kubernetes Pod manifest (``wrapix run --emit kube``).

A pure function of what :func:`wrapix_core.sandbox.plan.plan_podman` decided, so the two
cannot drift: the same binds become ``hostPath`` volumes (read-only where the plan says
``ro``: ``.git/hooks``, ``.git/config``, ``wrapix.toml``, ``.wrapix/``…, and the
directories above them onto themselves), the same environment (secrets by name only, from a
Secret, never their values), the same user, the same limits. The hardening Podman gets
from flags becomes the Pod's ``securityContext``: not root, every capability dropped, no
privilege escalation, never privileged, no host namespaces, no service-account token (the
cluster's equivalent of "never the Podman socket").

What a Pod cannot say is left out with a warning rather than pretended: the notification
and egress-proxy sockets live on this host (a cluster node has neither), an ``allowlist``
needs that proxy (refused), and there is no per-container process limit in a Pod spec
(kubelet's ``podPidsLimit`` is per node; the plan's limits stay on record as an annotation).
docs/kubernetes.md describes the runtime backend that will drive a cluster with kubectl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wrapix_core.sandbox import naming
from wrapix_core.sandbox.model import Bind, HostFacts, LaunchPlan, SandboxSpec
from wrapix_core.sandbox.plan import NOTIFY_DIR, PlanBuilder, PlanError, home_size
from wrapix_core.settings import SandboxSettings

CONTAINER = "sandbox"
"""The Pod's one container (Podman names it ``<pod>-sandbox``)."""
CREDENTIALS = "wrapix-secrets"
"""The Secret the agent's credentials are read from, one key per variable name:
``kubectl create secret generic wrapix-secrets --from-literal=CLAUDE_CODE_OAUTH_TOKEN=…``."""
_DNS_UNSAFE = re.compile(r"[^a-z0-9-]+")
_QUANTITY = re.compile(r"([0-9]+)\s*([kmgt]?)i?b?\Z", re.IGNORECASE)
_BINARY = {"": "", "k": "Ki", "m": "Mi", "g": "Gi", "t": "Ti"}


@dataclass(frozen=True)
class Manifest:
    """The documents to apply (the Pod, and a NetworkPolicy when egress is ``none``) and
    what the manifest could not carry over from the plan."""

    documents: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        import yaml  # PyYAML is a dependency already; loaded only for this command

        return yaml.safe_dump_all(self.documents, sort_keys=False, default_flow_style=False)

    def to_json(self) -> dict[str, Any]:
        """One object: the Pod, or a ``List`` of the documents (JSON is valid YAML too)."""
        if len(self.documents) == 1:
            return self.documents[0]
        return {"apiVersion": "v1", "kind": "List", "items": self.documents}


def kube_name(name: str) -> str:
    """``name`` as a DNS label (lowercase letters, digits, '-', at most 63): Podman's
    names may hold '_' and '.', and a Pod's hostname may not."""
    cleaned = _DNS_UNSAFE.sub("-", name.lower()).strip("-")[: naming.MAX_NAME].strip("-")
    if not cleaned:
        raise PlanError(f"sandbox name {name!r} has nothing a Kubernetes name can keep",
                        "pass --name with lowercase letters, digits and '-'")
    return cleaned


def quantity(size: str) -> str:
    """A Podman size (``4096m``, ``2g``, ``512k``, bytes) as a Kubernetes quantity:
    binary suffixes, since Podman's are binary and Kubernetes' ``m`` means milli."""
    found = _QUANTITY.match(size.strip())
    if found is None or int(found.group(1)) == 0:
        raise PlanError(f"size {size!r} is not a size", "write a number with k, m or g")
    return f"{int(found.group(1))}{_BINARY[found.group(2).lower()]}"


def _host_only(plan: LaunchPlan, facts: HostFacts) -> tuple[set[Path], list[str]]:
    """Binds of sockets that exist only on this host, and why they are left out."""
    skipped: set[Path] = set()
    warnings: list[str] = []
    if facts.notify_dir is not None:
        skipped.add(facts.notify_dir)
        warnings.append(f"the notification socket ({NOTIFY_DIR}) lives on this host: the Pod "
                        "gets none, so it cannot notify you (see docs/kubernetes.md)")
    if facts.egress_dir is not None and plan.network == "allowlist":
        skipped.add(facts.egress_dir)
    return skipped, warnings


def _path_type(bind: Bind, plan: LaunchPlan, facts: HostFacts) -> str:
    """The ``hostPath`` type: what the plan found there, or what staging makes."""
    for action in plan.staging:
        if action.target == bind.source:
            return "DirectoryOrCreate" if action.kind == "mkdir" else "Directory"
    fact = facts.paths.get(str(bind.source))
    if fact is not None:
        return "Directory" if fact.kind == "dir" else "File"
    return "File"  # known_hosts, the system prompt, keys: files wrapix checked for


def _volumes(plan: LaunchPlan, facts: HostFacts, skipped: set[Path]
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One ``hostPath`` volume per host path (``.claude`` is mounted twice), in the plan's
    order, so that a read-only path is mounted after the directory it lies in."""
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    names: dict[Path, str] = {}
    for bind in plan.binds:
        if bind.source in skipped:
            continue
        if bind.source not in names:
            names[bind.source] = f"host-{len(names)}"
            volumes.append({"name": names[bind.source],
                            "hostPath": {"path": str(bind.source),
                                         "type": _path_type(bind, plan, facts)}})
        mount: dict[str, Any] = {"name": names[bind.source], "mountPath": bind.dest}
        if bind.mode == "ro":
            mount["readOnly"] = True
        mounts.append(mount)
    return volumes, mounts


def _env(plan: LaunchPlan) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": name, "value": value}
                                 for name, value in plan.container_env.items()]
    env += [{"name": name, "valueFrom": {"secretKeyRef": {
        "name": CREDENTIALS, "key": name, "optional": True}}} for name in plan.env]
    return env


def _metadata(name: str, spec: SandboxSpec, plan: LaunchPlan,
              limits: str) -> dict[str, Any]:
    # Label values are restricted (63 characters, no '/'): the free-form ones
    # (workspace, limits) are annotations, under the same keys as the Podman labels.
    return {
        "name": name,
        "labels": {naming.LABEL_SANDBOX: "1", naming.LABEL_ROLE: kube_name(spec.role),
                   naming.LABEL_NETWORK: plan.network, "wrapix.pod": name},
        "annotations": {naming.LABEL_PROFILE: spec.profile.name,
                        naming.LABEL_WORKSPACE: str(spec.workspace),
                        naming.LABEL_LIMITS: limits, "wrapix.name": spec.name},
    }


def _no_network(name: str) -> dict[str, Any]:
    """``--network none``: no traffic in or out of the Pod (a policy selects it by name)."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"{name}-no-network"[:253]},
            "spec": {"podSelector": {"matchLabels": {"wrapix.pod": name}},
                     "policyTypes": ["Ingress", "Egress"]}}


def pod_manifest(plan: LaunchPlan, spec: SandboxSpec, facts: HostFacts,
                 settings: SandboxSettings) -> Manifest:
    """The Pod equivalent to ``plan`` (planned from ``spec``, ``facts``, ``settings``)."""
    if plan.network == "allowlist":
        raise PlanError("an allowlist sandbox reaches its hosts through a proxy on this "
                        "host, which a Pod manifest cannot carry",
                        "emit it with --network none or open (see docs/kubernetes.md)")
    if facts.uid == 0:
        raise PlanError("a sandbox Pod runs as your own user, and you are root here",
                        "run wrapix as the user who owns the workspace")
    name = kube_name(spec.name)
    cpus = PlanBuilder(spec, facts, settings).cpus()
    memory = quantity(settings.memory)
    limits = f"cpus={cpus},memory={settings.memory},pids={settings.pids_limit}"
    skipped, warnings = _host_only(plan, facts)
    volumes, mounts = _volumes(plan, facts, skipped)
    home = plan.container_env.get("HOME", f"/home/{facts.user}")
    volumes.append({"name": "home", "emptyDir": {"medium": "Memory",
                                                 "sizeLimit": quantity(home_size(settings))}})
    mounts.append({"name": "home", "mountPath": home})
    container: dict[str, Any] = {
        "name": CONTAINER, "image": spec.image, "workingDir": "/workspace",
        "env": _env(plan), "volumeMounts": mounts,
        "resources": {"limits": {"cpu": cpus, "memory": memory}},
        "securityContext": {"allowPrivilegeEscalation": False, "privileged": False,
                            "capabilities": {"drop": ["ALL"]}},
        "stdin": spec.interactive, "tty": spec.tty,
    }
    if spec.command:
        container["args"] = list(spec.command)
    pod: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": _metadata(name, spec, plan, limits),
        "spec": {
            "hostname": name, "restartPolicy": "Never",
            "automountServiceAccountToken": False, "enableServiceLinks": False,
            "hostNetwork": False, "hostPID": False, "hostIPC": False,
            "securityContext": {"runAsUser": facts.uid, "runAsGroup": facts.gid,
                                "runAsNonRoot": True,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container], "volumes": volumes,
        },
    }
    warnings.append(f"a Pod has no process limit of its own: pids={settings.pids_limit} is "
                    "recorded as an annotation (kubelet's podPidsLimit applies per node)")
    if facts.caps.limits_ignored:
        warnings.append("this host's rootless Podman (cgroup v1) cannot apply the Pod's cpu "
                        "and memory limits: `podman kube play` fails to start it here; a "
                        "cluster (or cgroup v2) applies them")
    documents = [pod]
    if plan.network == "none":
        documents.append(_no_network(name))
        warnings.append("egress none: a NetworkPolicy isolates the Pod on a cluster; with "
                        "`podman kube play` pass --network none")
    return Manifest(documents, warnings)
