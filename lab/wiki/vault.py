"""An Obsidian vault kept elsewhere, read in place: the plugin's ``vault`` setting.

    plugins:
      - lab:
          vault: ../research-vault    # relative to mkdocs.yml; shown under research-vault/

The vault's notes and attachments join the docs dir's files under a folder named
after the vault, without copying; Obsidian's own folders (``.obsidian``, ``.trash``)
and other hidden files stay out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lab import LabError
from lab.wiki.notes import FOLDERS


def folder(vault: Path, docs_dir: Path) -> str:
    """The folder the vault appears under; refuses one that would mix with the docs dir's."""
    name = vault.resolve().name
    if name in FOLDERS or (docs_dir / name).exists():
        raise LabError(
            f"vault {vault}: its name {name!r} is already a folder of {docs_dir}; "
            "rename the vault's folder, or move that folder"
        )
    return name


def files(vault: Path, docs_dir: Path) -> Iterator[tuple[str, Path]]:
    """(path in the wiki, file on disk) for each file of the vault."""
    top = folder(vault, docs_dir)
    for path in sorted(vault.rglob("*")):
        inside = path.relative_to(vault)
        if path.is_file() and not any(part.startswith(".") for part in inside.parts):
            yield f"{top}/{inside.as_posix()}", path
