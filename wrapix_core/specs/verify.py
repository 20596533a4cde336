"""``ralph spec --verify``: run each ``[verify]`` annotation's shell test.

A target ``path#fn`` runs as ``bash -c 'source "$1"; "$2"' _ PATH FN`` in the workspace:
the file and function travel as argv items, never spliced into a command line, and the
function must be defined by the file (a name like ``rm`` is refused, not run). A target
without a function runs the file with bash. Exit 0 passes, 77 skips (the automake
convention), anything else fails; a run past its timeout fails. Paths must stay inside
the workspace.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wrapix_core import proc
from wrapix_core.specs.model import Annotation, Criterion, Spec

SKIP_EXIT = 77
DEFAULT_TIMEOUT = 300.0
_FUNCTION_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_:.-]*")
_RUN_FUNCTION = ('source "$1" || exit 2; '
                 'declare -F -- "$2" >/dev/null || { echo "no function $2 in $1" >&2; exit 127; }; '
                 '"$2"')

Outcome = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class VerifyResult:
    spec: str
    criterion: str
    annotation: Annotation | None
    outcome: Outcome
    detail: str
    """Why (exit code, timeout, "no annotation") plus the last output line when it failed."""
    seconds: float = 0.0


def _resolve(workspace: Path, annotation: Annotation) -> Path | None:
    root = workspace.resolve()
    target = (root / annotation.path).resolve()
    return target if target == root or root in target.parents else None


async def run_annotation(workspace: Path, spec: str, criterion: Criterion,
                         annotation: Annotation, timeout: float = DEFAULT_TIMEOUT) -> VerifyResult:
    """Run one verify annotation and classify its exit."""
    def result(outcome: Outcome, detail: str, seconds: float = 0.0) -> VerifyResult:
        return VerifyResult(spec, criterion.text, annotation, outcome, detail, seconds)

    path = _resolve(workspace, annotation)
    if path is None:
        return result("fail", f"{annotation.path} is outside the workspace")
    if not path.is_file():
        return result("fail", f"{annotation.path} does not exist")
    if annotation.function is None:
        argv = ["bash", str(path)]
    elif _FUNCTION_RE.fullmatch(annotation.function):
        argv = ["bash", "-c", _RUN_FUNCTION, "_", str(path), annotation.function]
    else:
        return result("fail", f"{annotation.function!r} is not a shell function name")
    started = time.monotonic()
    try:
        done = await proc.run(argv, timeout=timeout, cwd=workspace, check=False)
    except proc.CommandTimeout:
        return result("fail", f"timed out after {timeout:g}s", time.monotonic() - started)
    except proc.CommandNotFound:
        return result("fail", "bash is not installed")
    seconds = time.monotonic() - started
    if done.returncode == 0:
        return result("pass", "exit 0", seconds)
    if done.returncode == SKIP_EXIT:
        return result("skip", f"exit {SKIP_EXIT}", seconds)
    tail = proc.last_lines(done.stderr or done.stdout, 1)
    return result("fail", f"exit {done.returncode}" + (f": {tail}" if tail else ""), seconds)


async def verify_spec(workspace: Path, spec: Spec,
                      timeout: float = DEFAULT_TIMEOUT) -> list[VerifyResult]:
    """Every criterion of ``spec``: verify annotations run in order, others skip."""
    results: list[VerifyResult] = []
    for criterion in spec.criteria:
        verifies = [item for item in criterion.annotations if item.kind == "verify"]
        if not verifies:
            why = "judge only" if criterion.annotations else "no annotation"
            results.append(VerifyResult(spec.name, criterion.text, None, "skip", why))
            continue
        for annotation in verifies:
            results.append(await run_annotation(workspace, spec.name, criterion, annotation,
                                                timeout))
    return results
