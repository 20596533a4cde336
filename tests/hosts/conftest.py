from __future__ import annotations

import pytest

from tests.support.remote_host import RemoteHost, copy_image, remote_host


@pytest.fixture(scope="session")
def remote(podman: str) -> RemoteHost:
    return remote_host(podman)


@pytest.fixture(scope="session")
def remote_busybox(podman: str, remote: RemoteHost, busybox_image: str) -> str:
    return copy_image(podman, remote, busybox_image)
