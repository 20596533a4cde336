"""The spec files of a workspace: which files are specs, and reading all of them.

Specs are the ``*.md`` files directly in ``specs/``, except ``README.md`` (the index) and
hidden files (editor swap and temporary files start with a dot).
"""

from __future__ import annotations

from pathlib import Path

from wrapix_core.specs.index import INDEX_FILE
from wrapix_core.specs.model import Spec
from wrapix_core.specs.parser import read_spec

SPECS_DIR = "specs"


def specs_dir(workspace: Path) -> Path:
    return workspace / SPECS_DIR


def is_spec_file(path: Path, directory: Path) -> bool:
    """True for ``directory/NAME.md`` that is neither the index nor hidden."""
    name = path.name
    return (path.parent == directory and name.lower().endswith(".md")
            and not name.startswith(".") and name.lower() != INDEX_FILE.lower())


def is_index_file(path: Path, directory: Path) -> bool:
    return path.parent == directory and path.name.lower() == INDEX_FILE.lower()


def spec_files(directory: Path) -> list[Path]:
    """Spec files in ``directory``, sorted by name ([] when it does not exist)."""
    try:
        entries = list(directory.iterdir())
    except OSError:
        return []
    return sorted((path for path in entries if is_spec_file(path, directory)
                   and not path.is_dir()), key=lambda path: path.name)


def load_specs(directory: Path) -> dict[str, Spec]:
    """Every spec in ``directory`` parsed, by name."""
    return {spec.name: spec for spec in map(read_spec, spec_files(directory))}
