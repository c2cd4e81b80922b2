"""The report's building block, rendered to Markdown and HTML by sim.app.report.render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Block:
    kind: str                # h1 | h2 | p | ul | table | fig
    text: str = ""
    items: list[Any] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
