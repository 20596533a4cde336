"""The cidfile rule both launch paths follow: a failed `podman run` removes only the
container it created (by the id podman wrote), never one that merely holds the name."""

from __future__ import annotations

from pathlib import Path

from wrapix_core.sandbox import cidfile


def test_the_cidfile_goes_right_after_run() -> None:
    argv = ["/usr/bin/podman", "run", "-d", "--name", "wrapix-x", "image", "cmd"]
    assert cidfile.run_argv(argv, "/tmp/cid") == [
        "/usr/bin/podman", "run", "--cidfile", "/tmp/cid", "-d", "--name", "wrapix-x",
        "image", "cmd"]


def test_only_the_container_the_run_created_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "cid"
    assert cidfile.created(str(path)) == ""  # podman created nothing: remove nothing
    path.write_text("0123abcd\n")
    assert cidfile.created(str(path)) == "0123abcd"
    assert cidfile.removal("0123abcd") == ["rm", "-f", "0123abcd"]
