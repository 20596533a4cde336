"""Egress policy, settings and plan: pure parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sandbox.factories import facts, spec
from wrapix_core.egress import policy
from wrapix_core.egress.allow import with_host
from wrapix_core.egress.log import Announcer, append
from wrapix_core.errors import WrapixError
from wrapix_core.profiles import BASE, PYTHON, RUST, Profile, derive_profile
from wrapix_core.sandbox.plan import plan_podman
from wrapix_core.settings import SandboxSettings, _deep_merge


@pytest.mark.parametrize(("pattern", "host", "expected"), [
    ("github.com", "github.com", True),
    ("github.com", "api.github.com", False),
    ("*.npmjs.org", "registry.npmjs.org", True),
    ("*.npmjs.org", "npmjs.org", False),
    ("*.npmjs.org", "evilnpmjs.org", False),
    ("GitHub.COM.", "github.com", True),
    ("203.0.113.7", "203.0.113.7", True),
    ("[2001:db8::1]", "2001:db8::1", True),
    ("github.com", "203.0.113.7", False),
])
def test_patterns(pattern: str, host: str, expected: bool) -> None:
    normalized = policy.normalize_host(host)
    assert normalized is not None
    assert policy.allowed(normalized, policy.merge([pattern])) is expected


@pytest.mark.parametrize("bad", ["", "*", "*.", "a b", "http://x.org", "x.org/path",
                                 "*.10.0.0.1", "-x.org", "x..org"])
def test_bad_patterns_are_refused(bad: str) -> None:
    with pytest.raises(policy.PatternError):
        policy.normalize_pattern(bad)


def test_hosts_that_are_not_names_are_not_normalized() -> None:
    assert policy.normalize_host("evil.org\r\nX: y") is None
    assert policy.normalize_host("ünicode.org") is None


def test_profiles_carry_their_registries_and_the_agent_hosts() -> None:
    assert "pypi.org" in PYTHON.allowlist and "github.com" in PYTHON.allowlist
    assert "static.crates.io" in RUST.allowlist
    with_agent = policy.effective(BASE.allowlist, True, ["example.org"])
    assert "api.anthropic.com" in with_agent and with_agent[-1] == "example.org"
    assert "api.anthropic.com" not in policy.effective(BASE.allowlist, False)
    derived = derive_profile(BASE, name="x", allowlist=["*.example.org"], network="none")
    assert derived.network == "none" and derived.allowlist[-1] == "*.example.org"


def test_settings_old_backend_values_move_to_network_backend() -> None:
    old = SandboxSettings.model_validate({"network": "slirp4netns"})
    assert old.network is None and old.network_backend == "slirp4netns"
    new = SandboxSettings.model_validate({"network": "allowlist", "allowlist": ["X.org"]})
    assert new.network == "allowlist" and new.allowlist == ["x.org"]
    with pytest.raises(ValueError, match="not a host name"):
        SandboxSettings.model_validate({"allowlist": ["http://x"]})


def test_user_and_project_allowlists_add_up() -> None:
    merged = _deep_merge({"sandbox": {"allowlist": ["a.org"], "readonly_paths": ["x"]}},
                         {"sandbox": {"allowlist": ["b.org"], "readonly_paths": ["y"]}})
    assert merged["sandbox"] == {"allowlist": ["a.org", "b.org"], "readonly_paths": ["y"]}


def _plan(network: str | None, settings: SandboxSettings, profile: Profile = BASE
          ) -> tuple[list[str], dict[str, str], object]:
    s = spec(profile=profile, network=network)
    plan = plan_podman(s, facts(s, egress_dir=Path("/run/user/1000/wrapix/egress/x")),
                       settings)
    return plan.argv, plan.container_env, plan


def test_plan_modes() -> None:
    argv, env, plan = _plan(None, SandboxSettings())
    assert argv[argv.index("--network") + 1] in ("pasta", "slirp4netns")
    assert "HTTP_PROXY" not in env and "wrapix.network=open" in argv
    argv, env, plan = _plan("none", SandboxSettings(network="allowlist"))
    assert argv[argv.index("--network") + 1] == "none"
    assert env["WRAPIX_EGRESS"] == "none" and "HTTP_PROXY" not in env
    argv, env, plan = _plan(None, SandboxSettings(network="allowlist", allowlist=["x.org"]))
    assert argv[argv.index("--network") + 1] == "none"
    assert env["HTTPS_PROXY"] == "http://127.0.0.1:3128" and env["no_proxy"]
    assert any(item.endswith(":/run/wrapix-egress:ro") for item in argv)
    data = plan.to_json()  # type: ignore[attr-defined]
    assert data["network"]["mode"] == "allowlist" and "x.org" in data["network"]["allowlist"]
    profile_none = derive_profile(BASE, name="offline", network="none")
    argv, _, _ = _plan(None, SandboxSettings(), profile_none)
    assert argv[argv.index("--network") + 1] == "none"


def test_project_allowlist_is_edited_in_place() -> None:
    assert with_host("", "x.org") == '[sandbox]\nallowlist = ["x.org"]\n'
    text = '# mine\n[sandbox]\nmemory = "8g"\n\n[image]\nagent = false\n'
    edited = with_host(text, "x.org")
    assert edited.startswith('# mine\n[sandbox]\nallowlist = ["x.org"]\nmemory = "8g"\n')
    again = with_host(edited, "*.y.org")
    assert 'allowlist = ["x.org", "*.y.org"]' in again and "[image]\nagent = false" in again
    assert with_host(again, "x.org") == again
    with pytest.raises(WrapixError, match="by hand"):
        with_host('sandbox = { memory = "1g" }\n', "x.org")


def test_denial_log_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "denied.jsonl"
    for number in range(400):
        append(path, {"host": f"h{number}.org"}, max_bytes=4096)
    data = path.read_bytes()
    assert len(data) <= 4096 and data.endswith(b'"h399.org"}\n')
    assert data.startswith(b'{"host"')


def test_announcer_tells_each_host_once_and_never_floods() -> None:
    now = [0.0]
    announcer = Announcer(lambda: now[0], interval=5.0, max_hosts=3)
    assert announcer.should_announce("a.org")
    assert not announcer.should_announce("a.org")
    assert not announcer.should_announce("b.org")  # too soon after a.org
    now[0] = 6.0
    assert announcer.should_announce("b.org")
    now[0] = 12.0
    assert announcer.should_announce("c.org")
    now[0] = 100.0
    assert not announcer.should_announce("d.org")  # at most three hosts


def test_proxy_sockets_are_outside_the_directory_sandboxes_may_see() -> None:
    from wrapix_core import paths
    from wrapix_core.egress import paths as egress_paths

    socket_dir = egress_paths.socket_dir("wrapix-x")
    assert paths.runtime_dir() not in socket_dir.parents
    assert paths.notify_socket().parent not in socket_dir.parents
    with pytest.raises(WrapixError):
        egress_paths.socket_dir("../x")


def test_a_profile_in_toml_sets_mode_and_list(tmp_path: Path) -> None:
    from wrapix_core.errors import ConfigError
    from wrapix_core.profiles import load_catalog

    (tmp_path / "wrapix.toml").write_text(
        '[profiles.web]\nbase = "python"\nnetwork = "allowlist"\nallowlist = ["*.Example.org"]\n')
    web = load_catalog(tmp_path).get("web")
    assert web.network == "allowlist"
    assert "pypi.org" in web.allowlist and web.allowlist[-1] == "*.example.org"
    (tmp_path / "wrapix.toml").write_text('[profiles.bad]\nallowlist = ["http://x"]\n')
    with pytest.raises(ConfigError, match=r"profiles\.bad\.allowlist"):
        load_catalog(tmp_path).get("bad")
