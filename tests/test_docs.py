"""README documents every CLI command, so the docs cannot fall behind the code."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: str = "zetrials") -> list[str]:
    """List every leaf command as it is typed, e.g. 'zetrials users add'."""
    paths: list[str] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, f"{prefix} {name}"))
        else:
            paths.append(f"{prefix} {name}")
    return paths


def test_readme_documents_every_cli_command() -> None:
    missing = [path for path in command_paths(main) if f"`{path}" not in README]
    assert missing == []


def test_readme_keeps_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
