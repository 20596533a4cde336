"""Success-criterion annotations: ``[verify](path#fn)`` and ``[judge](path#fn)`` links.

The link target names a shell file and optionally a function in it. The older form
``path::fn`` (the original wrapix's) is read too and marked ``legacy``.
"""

from __future__ import annotations

from urllib.parse import unquote

from wrapix_core.specs.model import Annotation, AnnotationKind

KINDS: frozenset[str] = frozenset({"verify", "judge"})


def from_link(label: str, href: str) -> Annotation | None:
    """The annotation a link stands for, or None when it is an ordinary link."""
    kind = label.strip().lower()
    if kind not in KINDS:
        return None
    target = unquote(href).strip()
    if "::" in target:
        path, _, function = target.partition("::")
        legacy = True
    else:
        path, _, function = target.partition("#")
        legacy = False
    path = path.strip()
    if not path:
        return None
    chosen: AnnotationKind = "verify" if kind == "verify" else "judge"
    return Annotation(chosen, path, function.strip() or None, legacy)
