"""Ghost choice: explicit label, then keyword/label match, then default; always with a reason."""

from schemas import Ticket
from services.dispatcher.ghost_selection import choose_ghost
from services.runtime.config import GhostConfig

GHOSTS = [
    GhostConfig(name="coder", keywords=["bug", "fix", "refactor"], labels=["bug"], command=["x"]),
    GhostConfig(name="writer", keywords=["docs", "readme"], labels=["documentation"], command=["x"]),
]


def _ticket(title: str, labels: tuple[str, ...] = (), hint: str | None = None) -> Ticket:
    return Ticket(source="manual", external_id="1", title=title, labels=labels, ghost_hint=hint)


def test_explicit_label_wins() -> None:
    assert choose_ghost(_ticket("fix bug", hint="writer"), GHOSTS, "coder").reason == "label sparks:writer"


def test_unknown_hint_falls_back_and_says_so() -> None:
    choice = choose_ghost(_ticket("update the readme", hint="nobody"), GHOSTS, "coder")
    assert choice.ghost == "writer"
    assert "names no configured ghost" in choice.reason


def test_labels_weigh_more_than_keywords() -> None:
    choice = choose_ghost(_ticket("fix the docs", labels=("documentation",)), GHOSTS, "coder")
    assert choice.ghost == "writer"
    assert "label documentation" in choice.reason


def test_no_match_uses_the_default() -> None:
    assert choose_ghost(_ticket("hello"), GHOSTS, "coder").ghost == "coder"


def test_description_breaks_the_tie_and_is_named_in_the_reason() -> None:
    ghosts = [
        GhostConfig(name="coder", description="Multi-file coding tasks", command=["x"]),
        GhostConfig(name="dba", description="Database migrations and schema changes", command=["x"]),
    ]
    choice = choose_ghost(_ticket("Add a migration for the orders schema"), ghosts, "coder")
    assert choice.ghost == "dba"
    assert "description mentions" in choice.reason
