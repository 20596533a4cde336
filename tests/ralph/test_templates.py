"""Prompt templates: strict rendering, project copies, check-templates and tune."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.ralph.support import Workspace
from wrapix_core.ralph import templates
from wrapix_core.ralph.errors import TemplateError
from wrapix_core.ralph.state import ralph_paths
from wrapix_core.ralph.templates import Template


def test_every_default_template_renders_with_sample_values() -> None:
    for phase in templates.PHASES:
        template = templates.load(None, phase)
        assert templates.problems(template, templates.sample_values(phase)) == []
        rendered = templates.render(template, templates.sample_values(phase))
        assert "{{" not in rendered
        assert templates.SIGNAL_OF_PHASE[phase] in rendered


def test_unknown_placeholder_fails_loudly_with_its_line() -> None:
    template = Template("step", "WORK_COMPLETE\nhello {{NAME_OF_THING}}\n", "t.md")
    with pytest.raises(TemplateError) as caught:
        templates.render(template, templates.sample_values("step"))
    assert "t.md line 2: unknown placeholder {{NAME_OF_THING}}" in str(caught.value)


def test_a_placeholder_without_a_value_in_that_phase_fails() -> None:
    template = Template("plan", "INTERVIEW_COMPLETE {{ISSUE_ID}}", "plan.md")
    wrong = templates.problems(template, templates.sample_values("plan"))
    assert wrong == ["plan.md line 1: {{ISSUE_ID}} has no value in the plan phase (it has: "
                     "LABEL, SPEC_NAME, SPEC_PATH, SPEC_TITLE, PINNED_CONTEXT, TASKS)"]


def test_missing_values_and_malformed_placeholders_fail() -> None:
    template = Template("step", "WORK_COMPLETE {{TITLE}} {{ not a name }}", "s.md")
    wrong = templates.problems(template, {"LABEL": "x"})
    assert any("no value was given for {{TITLE}}" in problem for problem in wrong)
    assert any("'{{ not a name }}' is not a placeholder" in problem for problem in wrong)


def test_a_template_that_never_mentions_its_signal_is_rejected() -> None:
    wrong = templates.problems(Template("ready", "Make issues for {{LABEL}}.", "r.md"))
    assert wrong == ["r.md: never mentions READY_COMPLETE, so the agent would not know how "
                     "to say it is done"]


def test_values_are_substituted_once_never_expanded_again() -> None:
    values = templates.sample_values("step") | {"TITLE": "Use {{LABEL}} and {{SECRET}}"}
    rendered = templates.render(Template("step", "WORK_COMPLETE: {{TITLE}}", "s"), values)
    assert rendered == "WORK_COMPLETE: Use {{LABEL}} and {{SECRET}}"


def test_prompts_over_64_kib_are_refused() -> None:
    values = templates.sample_values("step") | {"DESCRIPTION": "x" * (65 * 1024)}
    with pytest.raises(TemplateError, match="at most 65536"):
        templates.render(templates.load(None, "step"), values)


def test_long_descriptions_are_cut_with_a_pointer() -> None:
    cut = templates.cut_description("y" * 30_000, "wrapix tasks show demo-1")
    assert len(cut) < templates.MAX_DESCRIPTION + 200
    assert cut.endswith("read the whole issue with `wrapix tasks show demo-1`]")
    rendered = templates.render(templates.load(None, "step"),
                                templates.sample_values("step") | {"DESCRIPTION": cut})
    assert len(rendered.encode()) < templates.MAX_PROMPT_BYTES


def test_start_copies_templates_and_the_project_copy_wins(ws: Workspace) -> None:
    paths = ralph_paths(ws.root)
    copy = templates.project_path(paths, "step")
    assert copy.read_text() == templates.package_text("step")
    copy.write_text("WORK_COMPLETE for {{ISSUE_ID}} — project text\n")
    assert templates.load(paths, "step").text.endswith("project text\n")
    assert templates.load(paths, "step").origin == str(copy)


def test_check_templates_passes_then_names_the_broken_placeholder(ws: Workspace) -> None:
    done = ws.ralph("check-templates")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("✓") == 4  # plan, ready, step, check
    assert (ws.ralph_dir / "templates" / "check.md").is_file()  # installed by start
    (ws.ralph_dir / "templates" / "ready.md").write_text("READY_COMPLETE {{EPIC}}\n")
    (ws.ralph_dir / "templates" / "check.md").write_text(
        "CHECK_COMPLETE {{CHANGES}} {{ISSUE_ID}} {{DIFF}}\n")
    done = ws.ralph("check-templates")
    assert done.returncode == 1
    assert "✗ ready" in done.stdout
    assert "unknown placeholder {{EPIC}}" in done.stdout
    assert "✗ check" in done.stdout
    assert "{{ISSUE_ID}} has no value in the check phase" in done.stdout
    assert "unknown placeholder {{DIFF}}" in done.stdout
    # and `ralph check` itself refuses the broken prompt, loudly, before any agent runs
    refused = ws.ralph("check")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "the check prompt cannot be rendered" in refused.stderr
    assert ws.calls() == []


def _editor(tmp_path: Path, content: str) -> str:
    """An $EDITOR that replaces the file it is given with ``content``."""
    script = tmp_path / "editor.py"
    script.write_text("import sys\nfrom pathlib import Path\n"
                      f"Path(sys.argv[1]).write_text({content!r})\n")
    return f"{sys.executable} {script}"


def test_tune_saves_a_valid_edit(ws: Workspace, tmp_path: Path) -> None:
    text = "Custom step for {{ISSUE_ID}}: {{TITLE}}.\nEnd with WORK_COMPLETE.\n"
    done = ws.ralph("tune", "step", EDITOR=_editor(tmp_path, text))
    assert done.returncode == 0, done.stderr
    assert "saved .wrapix/ralph/templates/step.md" in done.stdout
    assert (ws.ralph_dir / "templates" / "step.md").read_text() == text


def test_tune_refuses_an_invalid_edit_and_keeps_the_template(ws: Workspace,
                                                             tmp_path: Path) -> None:
    before = (ws.ralph_dir / "templates" / "plan.md").read_text()
    done = ws.ralph("tune", "plan", EDITOR=_editor(tmp_path, "{{WHATEVER}} INTERVIEW_COMPLETE"))
    assert done.returncode == 2
    assert "unknown placeholder {{WHATEVER}}" in done.stderr
    assert "nothing was changed" in done.stderr
    assert "Traceback" not in done.stderr
    assert (ws.ralph_dir / "templates" / "plan.md").read_text() == before
