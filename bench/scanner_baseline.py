"""The original product's scanner, reconstructed from its documentation for comparison only.

A handful of regexes with severity weights (low 1, medium 2, high 4, critical 8); flag at a score of
4, block at 8. Like the original, any markdown code span or `$(...)` counts as a critical "shell
substitution". It is not used by sparks-intake; the quality benchmark runs it side by side.
"""

from __future__ import annotations

import re

_RULES = [
    (re.compile(r"ignore (?:all )?(?:previous|prior|above) instructions", re.I), 4),
    (re.compile(r"disregard (?:the )?(?:previous|above)", re.I), 4),
    (re.compile(r"you are now|act as|pretend to be", re.I), 2),
    (re.compile(r"system prompt", re.I), 2),
    (re.compile(r"`[^`]+`|\$\([^)]*\)"), 8),  # "shell substitution"
    (re.compile(r"rm -rf", re.I), 4),
    (re.compile(r"curl[^|\n]*\|\s*(?:ba)?sh", re.I), 4),
    (re.compile(r"api[_ ]?key|password|secret", re.I), 1),
]


def baseline_decision(text: str) -> str:
    """allow / flag / block by the original thresholds."""
    score = sum(weight for pattern, weight in _RULES if pattern.search(text))
    return "block" if score >= 8 else "flag" if score >= 4 else "allow"
