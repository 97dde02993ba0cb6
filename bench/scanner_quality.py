"""Benchmark: scanner quality and speed, against the original product's scanner in the same run.

    .venv/bin/python bench/scanner_quality.py [--json]

Quality on three sets: this project's ticket-shaped evaluation set (bench/scanner_eval/cases.jsonl;
the rules were developed against it, so it shows coverage, not generalisation) and the public
development sets in ../shared/scanner (dev.jsonl per source group, dev_composed.jsonl), which were
only looked at, never copied. Speed: tickets/s and MB/s of 1 KB tickets on one core, and the cost
per byte from 1 KB to 1 MB (linear cost means a flat line).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from scanner_baseline import baseline_decision

from services.scanner.scan_decision import ScanPolicy, scan_text

ROOT = Path(__file__).resolve().parent.parent
OWN = ROOT / "bench" / "scanner_eval" / "cases.jsonl"
SHARED = ROOT.parent / "shared" / "scanner"
BLOCK = ScanPolicy(mode="block")


def ours(text: str) -> str:
    return scan_text(text, BLOCK).decision


def rates(rows: Iterable[dict[str, str]], decide: Callable[[str], str]) -> dict[str, float]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        decision = decide(row["text"])
        label = row["label"]
        counts[label] += 1
        counts[f"{label}_{decision}"] += 1
    inj, ben = counts["injection"], counts["benign"]
    out: dict[str, float] = {}
    if inj:
        out["recall_block"] = counts["injection_block"] / inj
        out["detected_flag_or_block"] = (counts["injection_block"] + counts["injection_flag"]) / inj
        out["injections"] = inj
    if ben:
        out["false_block"] = counts["benign_block"] / ben
        out["false_flag"] = counts["benign_flag"] / ben
        out["benign"] = ben
    return out


def load(path: Path) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        row.setdefault("text", f"{row.get('title', '')}\n{row.get('description', '')}")
    return rows


def quality() -> dict[str, object]:
    report: dict[str, object] = {}
    own = load(OWN)
    report["own_eval"] = {"sparks": rates(own, ours), "original": rates(own, baseline_decision)}
    for key in ("class", "form"):
        groups: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in own:
            if row["label"] == "injection":
                groups[row[key]].append(row)
        report[f"own_eval_by_{key}"] = {
            g: round(rates(rs, ours)["recall_block"], 3) for g, rs in sorted(groups.items())
        }
    if SHARED.is_dir():
        dev = load(SHARED / "dev.jsonl")
        by_source: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in dev:
            by_source[row["source"].split(":")[0] + ":" + row["label"]].append(row)
        report["shared_dev_by_source"] = {
            name: {"sparks": rates(rs, ours), "original": rates(rs, baseline_decision)}
            for name, rs in sorted(by_source.items())
        }
        composed = load(SHARED / "dev_composed.jsonl")
        report["shared_composed"] = {"sparks": rates(composed, ours), "original": rates(composed, baseline_decision)}
    return report


def speed() -> dict[str, object]:
    rng = random.Random(7)
    words = [
        "the",
        "login",
        "page",
        "returns",
        "an",
        "error",
        "when",
        "users",
        "submit",
        "the",
        "form",
        "with",
        "an",
        "empty",
        "email",
        "field",
    ]

    def ticket(size: int) -> str:
        out: list[str] = []
        length = 0
        while length < size:
            out.append(rng.choice(words))
            length += len(out[-1]) + 1
        return " ".join(out)[:size]

    tickets = [ticket(1024) for _ in range(2000)]
    start = time.perf_counter()
    for text in tickets:
        scan_text(text, BLOCK)
    elapsed = time.perf_counter() - start
    per_byte: dict[str, float] = {}
    for size in (1_000, 10_000, 100_000, 1_000_000):
        text = ticket(size)
        start = time.perf_counter()
        scan_text(text, BLOCK)
        per_byte[str(size)] = (time.perf_counter() - start) / size * 1e9
    adversarial = {
        "ignore_the_the": "ignore " + "the " * 250_000,
        "spaced_letters": "a " * 500_000,
        "base64_alphabet": "QUJD" * 250_000,
        "comment_openers": "<!--" * 250_000,
        "unclosed_tags": "<div hidden " * 80_000,
        "code_fences": "```\n" * 250_000,
        "percent_escapes": "%41" * 330_000,
    }
    worst: dict[str, float] = {}
    for name, text in adversarial.items():
        start = time.perf_counter()
        scan_text(text, BLOCK)
        worst[name] = time.perf_counter() - start
    return {
        "tickets_per_s_1kb": len(tickets) / elapsed,
        "mb_per_s": len(tickets) * 1024 / elapsed / 1e6,
        "ns_per_byte_by_size": per_byte,
        "adversarial_1mb_secs": worst,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {"quality": quality(), "speed": speed()}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    q = result["quality"]
    assert isinstance(q, dict)

    def line(name: str, r: dict[str, float]) -> str:
        parts = []
        if "recall_block" in r:
            parts.append(
                f"recall(block) {r['recall_block']:.3f}  detected(flag|block) {r['detected_flag_or_block']:.3f}  n={int(r['injections'])}"
            )
        if "false_block" in r:
            parts.append(f"false-block {r['false_block']:.3f}  false-flag {r['false_flag']:.3f}  n={int(r['benign'])}")
        return f"  {name:<10} " + " | ".join(parts)

    print("own ticket-shaped evaluation set (block mode):")
    for who, r in q["own_eval"].items():
        print(line(who, r))
    print("  recall by class:", q["own_eval_by_class"])
    print("  recall by hidden form:", q["own_eval_by_form"])
    if "shared_dev_by_source" in q:
        print("shared dev.jsonl by source group:")
        for name, both in q["shared_dev_by_source"].items():
            print(f" {name}")
            for who, r in both.items():
                print(line(who, r))
        print("shared dev_composed.jsonl (real issues, clean and with a planted injection):")
        for who, r in q["shared_composed"].items():
            print(line(who, r))
    s = result["speed"]
    assert isinstance(s, dict)
    print(f"speed (one core): {s['tickets_per_s_1kb']:.0f} tickets/s of 1 KB, {s['mb_per_s']:.2f} MB/s")
    print("  ns per byte by input size:", {k: round(v, 1) for k, v in s["ns_per_byte_by_size"].items()})
    print("  adversarial 1 MB inputs, seconds:", {k: round(v, 3) for k, v in s["adversarial_1mb_secs"].items()})


if __name__ == "__main__":
    main()
