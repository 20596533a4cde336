"""The image hash covers every input; the wheel of the running wrapix is deterministic."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from wrapix_core.errors import WrapixError
from wrapix_core.image import builder, inputs, progress, wheel
from wrapix_core.profiles import BUILTIN, Package, derive_profile
from wrapix_core.settings import ImageSettings

CONTEXT = inputs.context_files()


def digest(profile=BUILTIN["base"], settings=None, backend="containerfile",  # type: ignore[no-untyped-def]
           base_id="sha-a", context=CONTEXT):
    return inputs.gather(profile, settings or ImageSettings(), backend, base_id=base_id,
                         context=context).digest


def test_same_inputs_same_hash_and_tag_shape() -> None:
    first = inputs.gather(BUILTIN["base"], ImageSettings(), "containerfile", base_id="sha-a",
                          context=CONTEXT)
    assert first.digest == digest()
    assert first.tag == f"localhost/wrapix-base:{first.digest[:12]}"
    assert first.recipe.labels["wrapix.inputs"] == first.digest


@pytest.mark.parametrize("change", [
    {"profile": derive_profile(BUILTIN["base"], packages=[Package.simple("htop")])},
    {"profile": derive_profile(BUILTIN["base"], env={"X": "1"})},
    {"backend": "nix"},
    {"base_id": "sha-b"},
    {"settings": ImageSettings(base="localhost/other:1")},
    {"settings": ImageSettings(agent=False)},
    {"settings": ImageSettings(agent_version="2.0.0")},
    {"context": {**CONTEXT, "entrypoint.sh": b"#!/bin/sh\n"}},
    {"context": {**CONTEXT, "extra-ca.crt": b"-----BEGIN CERTIFICATE-----\n"}},
])
def test_every_input_changes_the_hash(change: dict[str, object]) -> None:
    assert digest(**change) != digest()


def test_wheel_is_deterministic_and_complete(tmp_path: Path) -> None:
    name, first = wheel.wheel_bytes()
    _, second = wheel.wheel_bytes()
    assert first == second
    assert name == f"wrapix-{wheel.collect().version}-py3-none-any.whl"
    path = tmp_path / name
    path.write_bytes(first)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        entry_points = archive.read(f"wrapix-{wheel.collect().version}.dist-info/"
                                    "entry_points.txt").decode()
    assert "wrapix_core/sandbox/plan.py" in names
    assert "wrapix_core/image/data/entrypoint.sh" in names
    assert "wrapix_tui/styles/app.tcss" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    for command in ("wrapix-notify", "ralph", "wrapix-tui"):
        assert command in entry_points


def test_wheel_installs_with_its_commands(tmp_path: Path) -> None:
    """pip accepts the wheel, and its console scripts run the wheel's own code."""
    name, data = wheel.wheel_bytes()
    (tmp_path / name).write_bytes(data)
    target = tmp_path / "target"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                    "--target", str(target), str(tmp_path / name)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([str(target / "bin" / "ralph"), "--help"], capture_output=True,
                          text=True, timeout=60, check=True, env=env, cwd=tmp_path)
    assert "Turn a spec into issues" in done.stdout
    probe = "import wrapix_core; print(wrapix_core.__file__)"
    where = subprocess.run([sys.executable, "-c", probe],
                           capture_output=True, text=True, env=env, check=True, timeout=60,
                           cwd=tmp_path)
    assert where.stdout.startswith(str(target))


def test_host_ca_bundle_and_explicit_paths(tmp_path: Path) -> None:
    assert inputs.extra_ca("none") is None
    pem = tmp_path / "corp.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    assert inputs.extra_ca(str(pem)) == pem.read_bytes()
    (tmp_path / "not.pem").write_text("hello")
    with pytest.raises(WrapixError, match="holds no PEM"):
        inputs.extra_ca(str(tmp_path / "not.pem"))
    with pytest.raises(WrapixError, match="cannot be read"):
        inputs.extra_ca(str(tmp_path / "missing.pem"))


def test_only_certificates_of_a_ca_bundle_reach_the_image(tmp_path: Path) -> None:
    # A client bundle holds its key next to the certificate; the agent can read whatever
    # the image holds.
    cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n"
    bundle = tmp_path / "client.pem"
    bundle.write_text(f"# corp\n{key}{cert}{cert.replace('MIIB', 'MIIC')}")
    data = inputs.extra_ca(str(bundle))
    assert data is not None and b"SECRET" not in data and b"corp" not in data
    assert data == (cert + cert.replace("MIIB", "MIIC")).encode()
    fifo = tmp_path / "fifo.pem"
    os.mkfifo(fifo)  # never waited on
    with pytest.raises(WrapixError, match="cannot be read"):
        inputs.extra_ca(str(fifo))


def test_progress_lines() -> None:
    event = progress.parse("STEP 3/15: RUN apt-get update")
    assert (event.step, event.total, event.starts_step) == (3, 15, True)
    assert progress.parse("[2/3] STEP 1/4: FROM x").step == 1
    assert not progress.parse("Get:1 http://deb.debian.org bookworm InRelease").starts_step


def test_backend_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder, "nix_usable", lambda: False)
    assert builder.choose_backend(ImageSettings()) == "containerfile"
    monkeypatch.setattr(builder, "nix_usable", lambda: True)
    assert builder.choose_backend(ImageSettings()) == "nix"
    assert builder.choose_backend(ImageSettings(), "containerfile") == "containerfile"
    with pytest.raises(WrapixError, match="unknown image backend"):
        builder.choose_backend(ImageSettings(), "docker")
    monkeypatch.setattr(builder.shutil, "which", lambda name: None)
    with pytest.raises(WrapixError, match="nix-build is not on PATH"):
        builder.choose_backend(ImageSettings(), "nix")


def test_a_custom_entrypoint_replaces_the_sandbox_one_and_changes_the_hash() -> None:
    custom = inputs.gather(BUILTIN["base"], ImageSettings(), "containerfile", base_id="sha-a",
                           entrypoint=b"#!/bin/sh\nexec sshd -D\n")
    default = inputs.gather(BUILTIN["base"], ImageSettings(), "containerfile", base_id="sha-a")
    assert custom.files["entrypoint.sh"] == b"#!/bin/sh\nexec sshd -D\n"
    assert custom.digest != default.digest
