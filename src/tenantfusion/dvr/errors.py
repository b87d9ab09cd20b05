"""Errors of the DVR toolkit.

DvrError                 root: a one-line message for the CLI
 ├── InventoryError      the inventory file is unreadable or invalid (one problem per line)
 ├── LocalConfError      a local.conf / post-install file cannot be read
 └── StateError          a captured or live node state cannot be read
"""

from __future__ import annotations


class DvrError(Exception):
    """Root of the DVR toolkit's errors; str() is a message fit for one CLI line."""


class InventoryError(DvrError):
    """The inventory is invalid; ``problems`` holds one message per problem, each naming a field."""

    def __init__(self, *, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class LocalConfError(DvrError):
    """A local.conf or post-install script could not be read."""


class StateError(DvrError):
    """A node state (captured JSON or live commands) could not be read."""
