"""The Pod manifest is the launch plan, field by field (no cluster, no Podman)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.sandbox.factories import WS, facts, spec
from wrapix_core.profiles import Mount, Profile
from wrapix_core.sandbox.kube import Manifest, kube_name, pod_manifest, quantity
from wrapix_core.sandbox.model import HostFacts, SandboxSpec
from wrapix_core.sandbox.plan import PlanError, plan_podman
from wrapix_core.settings import SandboxSettings


def manifest(spec_: SandboxSpec | None = None, settings: SandboxSettings | None = None,
             **fact_changes: Any) -> tuple[Manifest, HostFacts]:
    spec_ = spec_ or spec()
    settings = settings or SandboxSettings()
    facts_ = facts(spec_, settings, **fact_changes)
    return pod_manifest(plan_podman(spec_, facts_, settings), spec_, facts_, settings), facts_


def pod(spec_: SandboxSpec | None = None, **changes: Any) -> dict[str, Any]:
    return manifest(spec_, **changes)[0].documents[0]


def container(spec_: SandboxSpec | None = None, **changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = pod(spec_, **changes)["spec"]["containers"][0]
    return found


def mounts(pod_: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """mountPath -> (host path, read-only)."""
    sources = {volume["name"]: volume.get("hostPath", {}).get("path", volume["name"])
               for volume in pod_["spec"]["volumes"]}
    return {mount["mountPath"]: (sources[mount["name"]], mount.get("readOnly", False))
            for mount in pod_["spec"]["containers"][0]["volumeMounts"]}


def test_every_bind_of_the_plan_is_a_host_path_mount_with_its_mode() -> None:
    spec_ = spec()
    settings = SandboxSettings()
    facts_ = facts(spec_, settings)
    plan = plan_podman(spec_, facts_, settings)
    found = mounts(pod_manifest(plan, spec_, facts_, settings).documents[0])
    for bind in plan.binds:
        if bind.dest == "/run/wrapix":
            continue
        assert found[bind.dest] == (str(bind.source), bind.mode == "ro")
    assert found["/workspace"] == (str(WS), False)
    for protected in (".git/hooks", ".git/config", ".wrapix"):
        assert found[f"/workspace/{protected}"] == (str(WS / protected), True)


def test_the_claude_directory_is_one_volume_mounted_twice() -> None:
    pod_ = pod()
    paths = [volume["hostPath"]["path"] for volume in pod_["spec"]["volumes"]
             if "hostPath" in volume]
    assert paths.count(str(WS / ".claude")) == 1
    found = mounts(pod_)
    assert found["/home/alice/.claude"] == found["/workspace/.claude"] == (
        str(WS / ".claude"), False)


def test_hardening_not_root_no_capabilities_no_escalation_no_host_namespaces() -> None:
    pod_ = pod()
    security = pod_["spec"]["securityContext"]
    assert security["runAsUser"] == 1000 and security["runAsGroup"] == 1000
    assert security["runAsNonRoot"] is True
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    inner = pod_["spec"]["containers"][0]["securityContext"]
    assert inner == {"allowPrivilegeEscalation": False, "privileged": False,
                     "capabilities": {"drop": ["ALL"]}}
    spec_ = pod_["spec"]
    assert spec_["hostNetwork"] is spec_["hostPID"] is spec_["hostIPC"] is False
    assert spec_["automountServiceAccountToken"] is False


def test_root_is_refused() -> None:
    with pytest.raises(PlanError, match="root"):
        manifest(uid=0)


def test_limits_in_kubernetes_units_and_the_pids_limit_on_record() -> None:
    made, _ = manifest(settings=SandboxSettings(cpus=1.5, memory="2g", pids_limit=512,
                                                home_size="512m"))
    pod_ = made.documents[0]
    assert pod_["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "1.5", "memory": "2Gi"}}
    home = next(v for v in pod_["spec"]["volumes"] if v["name"] == "home")
    assert home["emptyDir"] == {"medium": "Memory", "sizeLimit": "512Mi"}
    assert pod_["metadata"]["annotations"]["wrapix.limits"] == "cpus=1.5,memory=2g,pids=512"
    assert any("pids=512" in warning for warning in made.warnings)


@pytest.mark.parametrize(("size", "expected"), [("4096m", "4096Mi"), ("2G", "2Gi"),
                                                ("512k", "512Ki"), ("1048576", "1048576"),
                                                ("3gb", "3Gi")])
def test_quantity(size: str, expected: str) -> None:
    assert quantity(size) == expected


def test_environment_by_name_and_secrets_only_by_reference() -> None:
    made, _ = manifest(spec(env={"PROBE": "1"}),
                       secrets={"CLAUDE_CODE_OAUTH_TOKEN": "sk-very-secret"})
    text = made.to_yaml()
    assert "sk-very-secret" not in text
    env = {item["name"]: item for item in made.documents[0]["spec"]["containers"][0]["env"]}
    assert env["PROBE"] == {"name": "PROBE", "value": "1"}
    assert env["HOME"]["value"] == "/home/alice"
    assert env["CLAUDE_CODE_OAUTH_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == (
        "CLAUDE_CODE_OAUTH_TOKEN")


def test_command_image_and_workdir() -> None:
    found = container(spec(command=("sh", "-c", "echo hi"), tty=True))
    assert found["image"] == "localhost/img:1"
    assert found["args"] == ["sh", "-c", "echo hi"]
    assert found["workingDir"] == "/workspace"
    assert found["tty"] is True
    assert "args" not in container()  # the image's own command


def test_host_only_sockets_are_left_out_and_said() -> None:
    made, _ = manifest(notify_dir=Path("/run/user/1000/wrapix/s/x"))
    assert "/run/wrapix" not in mounts(made.documents[0])
    assert any("notification" in warning for warning in made.warnings)


def test_missing_protected_directories_are_created_and_files_typed() -> None:
    spec_ = spec()
    pod_ = pod(spec_, missing={str(WS / ".wrapix")}, files={str(WS / ".git/config")})
    types = {v["hostPath"]["path"]: v["hostPath"]["type"] for v in pod_["spec"]["volumes"]
             if "hostPath" in v}
    assert types[str(WS / ".wrapix")] == "DirectoryOrCreate"
    assert types[str(WS / ".git/config")] == "File"
    assert types[str(WS)] == "Directory"


def test_egress_none_adds_a_policy_and_allowlist_is_refused() -> None:
    made, _ = manifest(spec(network="none"))
    policy = made.documents[1]
    assert policy["kind"] == "NetworkPolicy"
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "wrapix.pod": made.documents[0]["metadata"]["name"]}
    assert made.to_json()["kind"] == "List"
    assert [doc["kind"] for doc in yaml.safe_load_all(made.to_yaml())] == [
        "Pod", "NetworkPolicy"]
    with pytest.raises(PlanError, match="proxy"):
        manifest(spec(network="allowlist"), egress_dir=Path("/run/egress"))


def test_names_become_dns_labels() -> None:
    assert kube_name("wrapix-My_Proj.x-abc123") == "wrapix-my-proj-x-abc123"
    assert len(kube_name("a" * 80)) == 63
    with pytest.raises(PlanError, match="--name"):
        kube_name("___")
    pod_ = pod(spec(name="wrapix-My_proj-1"))
    assert pod_["metadata"]["name"] == pod_["spec"]["hostname"] == "wrapix-my-proj-1"
    assert pod_["metadata"]["annotations"]["wrapix.name"] == "wrapix-My_proj-1"


def test_profile_mounts_keep_their_mode() -> None:
    profile = Profile(name="t", mounts=(Mount(source="/data", dest="/data", mode="ro"),))
    spec_ = spec(profile=profile)
    assert mounts(pod(spec_))["/data"] == ("/data", True)
