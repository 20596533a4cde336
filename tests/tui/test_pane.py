"""The pane skeleton (title, note, readiness) and the app's toasts, through real panes."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text

from tests.tui.conftest import wait_until
from tests.tui.fake_runtime import FakeRuntime
from wrapix_core.sandbox.errors import RuntimeHung
from wrapix_tui.app import WrapixApp

MakeApp = Callable[..., WrapixApp]


async def test_toasts_are_plain_text_unless_asked(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.notify("[bold]not markup[/bold]")
        app.notify("[bold]markup[/bold]", markup=True)
        await pilot.pause()
        plain, marked = list(app._notifications)[-2:]
        assert plain.message == "[bold]not markup[/bold]" and not plain.markup
        assert marked.markup


async def test_title_and_note_are_drawn_from_the_reactives(make_app: MakeApp,
                                                           fake: FakeRuntime) -> None:
    fake.fail["caps"] = RuntimeHung("podman did not answer within 30s", "check it")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.dashboard.sandboxes
        note = pane.query_one("#sandbox-note")
        await wait_until(pilot, lambda: "did not answer" in str(note.render()))
        assert note.has_class("-error") and note.display
        pane.note, pane.note_error = "", False  # nothing to say: hidden
        assert not note.display and not note.has_class("-error")
        pane.note = Text("[b]literal[/b]")
        assert note.display and "[b]literal[/b]" in str(note.render())
        pane.title = "[red]x[/red]"
        assert pane.border_title == "\\[red]x\\[/red]"  # escaped: shown as typed, never markup


async def test_a_key_before_the_core_is_loaded_says_it_is_still_loading(
        make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        builder = app.dashboard.builder
        builder.core = None  # as before the core is loaded
        assert not builder.ready()
        await pilot.pause()
        assert any(n.message == "Still loading settings…" for n in app._notifications)
