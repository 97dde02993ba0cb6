"""Pure core: choose a ghost for a ticket and say why."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from schemas import Ticket
from services.runtime.config import GhostConfig

DRY_RUN = "dry-run"
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "with",
        "we",
        "our",
        "you",
        "your",
        "not",
    ]
)


@dataclass(frozen=True, slots=True)
class GhostChoice:
    """The ghost and the reason recorded in `task.started`."""

    ghost: str
    reason: str


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9][a-z0-9_\-]*", text.lower()))


def choose_ghost(ticket: Ticket, ghosts: Sequence[GhostConfig], default: str) -> GhostChoice:
    """Explicit `sparks:<ghost>` label, else the best keyword/label match, else the default ghost."""
    known = {g.name for g in ghosts} | {DRY_RUN}
    if ticket.ghost_hint:
        if ticket.ghost_hint in known:
            return GhostChoice(ticket.ghost_hint, f"label sparks:{ticket.ghost_hint}")
        hint_note = f"label sparks:{ticket.ghost_hint} names no configured ghost; "
    else:
        hint_note = ""
    words = _words(f"{ticket.title} {ticket.description}")
    labels = {label.lower() for label in ticket.labels}
    best: tuple[float, str, list[str]] | None = None
    for ghost in ghosts:
        label_hits = sorted(labels & {label.lower() for label in ghost.labels})
        keyword_hits = sorted(words & {k.lower() for k in ghost.keywords})
        # The description and role count least: a few shared content words, a tie-breaker.
        described = sorted((words & _words(f"{ghost.description} {ghost.role}")) - _STOPWORDS)
        score = 2 * len(label_hits) + len(keyword_hits) + 0.25 * len(described)
        reasons = [f"label {x}" for x in label_hits] + [f"keyword {x}" for x in keyword_hits]
        reasons += [f"description mentions {', '.join(described[:3])}"] if described else []
        if score and (best is None or score > best[0]):
            best = (score, ghost.name, reasons)
    if best is not None:
        return GhostChoice(best[1], f"{hint_note}matched {', '.join(best[2])}")
    return GhostChoice(default, f"{hint_note}no ghost matched; default ghost")
