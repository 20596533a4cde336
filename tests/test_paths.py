"""wrapix's XDG directories agree with platformdirs (which wrapix no longer imports on Linux)."""

from __future__ import annotations

import sys

import platformdirs
import pytest

from wrapix_core import paths

KINDS = {"config": platformdirs.user_config_dir, "state": platformdirs.user_state_dir,
         "cache": platformdirs.user_cache_dir, "data": platformdirs.user_data_dir}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rules are Linux's")
@pytest.mark.parametrize("value", [None, "/tmp/xdg-here", "relative/ignored", ""])
@pytest.mark.parametrize("kind", list(KINDS))
def test_same_directories_as_platformdirs(kind: str, value: str | None,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(f"WRAPIX_{kind.upper()}_DIR", raising=False)
    variable = paths._XDG[kind][0]
    if value is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, value)
    assert str(getattr(paths, f"{kind}_dir")()) == KINDS[kind]("wrapix")


def test_overrides_win(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("WRAPIX_CACHE_DIR", "/tmp/elsewhere")
    assert str(paths.cache_dir()) == "/tmp/elsewhere"
