"""``ralph spec``: annotation counts per spec; ``--verify`` runs the ``[verify]`` tests.

Without ``--verify`` it only reads and parses specs (instant, nothing runs). With it, each
``[verify](path#fn)`` target runs in the workspace (see :mod:`wrapix_core.specs.verify`)
and one line per criterion says PASS, FAIL or SKIP, ending with one summary line. Exit 1
when any verify failed.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from wrapix_core import untrusted
from wrapix_core.cli.base import echo_json, run_async
from wrapix_core.cli.ralph.board import resolve_workspace
from wrapix_core.errors import WrapixError
from wrapix_core.specs import catalog
from wrapix_core.specs.model import Spec
from wrapix_core.specs.verify import DEFAULT_TIMEOUT, VerifyResult, verify_spec


def _specs(workspace: Path, only: str | None) -> list[Spec]:
    specs = catalog.load_specs(catalog.specs_dir(workspace))
    if only is not None:
        name = only.removesuffix(".md")
        if name not in specs:
            raise WrapixError(f"no spec {name}.md in {catalog.specs_dir(workspace)}",
                              "`ralph spec` lists the specs")
        return [specs[name]]
    return list(specs.values())


def _counts_line(spec: Spec, width: int) -> str:
    counts = spec.annotation_counts()
    return (f"  {untrusted.line(spec.file_name):<{width}}  {counts.verify} verify, "
            f"{counts.judge} judge, {counts.unannotated} unannotated")


def _index(specs: list[Spec], verbose: bool) -> None:
    click.echo("Ralph Specs")
    click.echo("===========")
    width = max((len(spec.file_name) for spec in specs), default=4)
    total = Counter[str]()
    for spec in specs:
        click.echo(_counts_line(spec, width))
        counts = spec.annotation_counts()
        total.update(verify=counts.verify, judge=counts.judge, bare=counts.unannotated)
        if verbose:
            for criterion in spec.criteria:
                mark = "x" if criterion.done else " "
                kinds = ", ".join(f"{item.kind} {untrusted.line(item.target)}"
                                  for item in criterion.annotations) or "unannotated"
                click.echo(f"      [{mark}] {untrusted.line(criterion.text)}  ({kinds})")
            for problem in spec.problems:
                click.echo(f"      ! {untrusted.line(problem)}")
    click.echo("")
    click.echo(f"Total: {total['verify']} verify, {total['judge']} judge, "
               f"{total['bare']} unannotated")


def _spec_json(spec: Spec) -> dict[str, Any]:
    counts = spec.annotation_counts()
    return {
        "name": spec.name, "file": spec.file_name, "title": spec.title,
        "criteria": [{"text": criterion.text, "done": criterion.done,
                      "annotations": [{"kind": item.kind, "path": item.path,
                                       "function": item.function, "legacy": item.legacy}
                                      for item in criterion.annotations]}
                     for criterion in spec.criteria],
        "counts": {"verify": counts.verify, "judge": counts.judge,
                   "unannotated": counts.unannotated},
        "problems": list(spec.problems),
    }


def _result_json(result: VerifyResult) -> dict[str, Any]:
    return {"spec": result.spec, "criterion": result.criterion, "outcome": result.outcome,
            "target": result.annotation.target if result.annotation else None,
            "detail": result.detail, "seconds": round(result.seconds, 3)}


def _verify(workspace: Path, specs: list[Spec], timeout: float, as_json: bool) -> int:
    results: list[VerifyResult] = []
    for spec in specs:
        if not spec.criteria:
            continue
        found = run_async(verify_spec(workspace, spec, timeout))
        results.extend(found)
        if as_json:
            continue
        header = f"Ralph Verify: {untrusted.line(spec.name)}"
        click.echo(header)
        click.echo("=" * len(header))
        for result in found:
            click.echo(f"  [{result.outcome.upper()}] {untrusted.line(result.criterion)}")
            target = f"{result.annotation.target} " if result.annotation else ""
            click.echo(f"         {untrusted.line(target)}({untrusted.line(result.detail)})")
        click.echo("")
    outcomes = Counter(result.outcome for result in results)
    if as_json:
        echo_json({"results": [_result_json(result) for result in results],
                   "passed": outcomes["pass"], "failed": outcomes["fail"],
                   "skipped": outcomes["skip"]})
    else:
        click.echo(f"{outcomes['pass']} passed, {outcomes['fail']} failed, "
                   f"{outcomes['skip']} skipped")
    return 1 if outcomes["fail"] else 0


@click.command()
@click.option("--verbose", is_flag=True, help="Show every criterion and its annotations.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--verify", "run_verify", is_flag=True, help="Run the [verify] tests.")
@click.option("--spec", "only", metavar="NAME", help="Only this spec (name or file name).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
              default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds each verify test may take.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Workspace (default: the nearest directory holding specs/).")


def spec(verbose: bool, as_json: bool, run_verify: bool, only: str | None, timeout: float,
         directory: Path | None) -> None:
    """Annotation counts per spec; --verify runs the [verify] shell tests."""
    workspace = resolve_workspace(directory)
    specs = _specs(workspace, only)
    if run_verify:
        sys.exit(_verify(workspace, specs, timeout, as_json))
    if as_json:
        echo_json([_spec_json(item) for item in specs])
    else:
        _index(specs, verbose)
