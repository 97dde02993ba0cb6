"""Regression guard on the evaluation set (the benchmark prints the full report, per class and form)."""

from __future__ import annotations

import json
from pathlib import Path

from services.scanner.scan_decision import ScanPolicy, scan_text

CASES = Path(__file__).resolve().parents[3] / "bench" / "scanner_eval" / "cases.jsonl"


def test_block_mode_targets_hold_on_the_evaluation_set() -> None:
    rows = [json.loads(line) for line in CASES.read_text().splitlines()]
    decisions = [
        (row["label"], scan_text(f"{row['title']}\n{row['description']}", ScanPolicy()).decision) for row in rows
    ]
    injections = [d for label, d in decisions if label == "injection"]
    benign = [d for label, d in decisions if label == "benign"]
    assert len(rows) >= 150
    assert injections.count("block") / len(injections) >= 0.90
    assert benign.count("block") / len(benign) <= 0.02
    assert benign.count("flag") / len(benign) <= 0.10
