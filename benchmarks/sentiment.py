"""Accuracy of the sentiment analyser on a labelled set of short customer feedback texts.

    python -m benchmarks.sentiment [--errors tuning|held-out]

The set (``benchmarks/data/sentiment_labelled.csv``, written for this project) is split by a hash
of each text: about 30% is held out, never read while the lexicon was tuned; the rest is the
tuning part. For each part, each language and both together, prints accuracy and precision and
recall per label, for the current analyser (``projections.sentiment``) and for the one it replaced
(``benchmarks.sentiment_baseline``); then the current analyser's speed, and the seconds its first use
takes (reading jieba's dictionary). ``--errors`` lists the texts of one part that the current
analyser labels wrongly (use it on the tuning part only).
"""

import argparse
import csv
import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import sentiment_baseline
from projections.sentiment import LABELS, SentimentRules, sentiment

DATA = Path(__file__).parent / "data" / "sentiment_labelled.csv"
HELD_OUT_PERCENT = 30


def labelled() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(line for line in file if not line.startswith("#")))


def part(text: str) -> str:
    """``held-out`` or ``tuning``, fixed by the text itself."""
    return "held-out" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 100 < HELD_OUT_PERCENT else "tuning"


def figures(rows: list[dict[str, str]], predict: Callable[[str], str]) -> str:
    predicted = [predict(row["text"]) for row in rows]
    correct = sum(p == row["label"] for p, row in zip(predicted, rows))
    cells = [f"n {len(rows):3}", f"accuracy {100 * correct / len(rows):5.1f}%"]
    for label in LABELS:
        hits = sum(p == label == row["label"] for p, row in zip(predicted, rows))
        said, truly = predicted.count(label), sum(row["label"] == label for row in rows)
        precision = f"{100 * hits / said:5.1f}" if said else "    -"
        recall = f"{100 * hits / truly:5.1f}" if truly else "    -"
        cells.append(f"{label} P {precision} R {recall}")
    return " | ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", choices=("tuning", "held-out"), help="list the texts of this part the analyser labels wrongly")
    args = parser.parse_args()
    rules = SentimentRules()
    started = time.perf_counter()
    sentiment("", rules)
    first_use = time.perf_counter() - started
    analysers = {"current": lambda text: sentiment(text, rules).label, "before": sentiment_baseline.label}
    rows = labelled()
    for name in ("held-out", "tuning"):
        for language in ("en", "zh", "all"):
            chosen = [r for r in rows if part(r["text"]) == name and language in (r["language"], "all")]
            for analyser, predict in analysers.items():
                print(f"{name:8} {language:3} {analyser:7} {figures(chosen, predict)}")
    texts = [row["text"] for row in rows] * 30
    started = time.perf_counter()
    for text in texts:
        sentiment(text, rules)
    print(f"speed: {len(texts) / (time.perf_counter() - started):,.0f} texts/s; first use {first_use:.2f} s")
    if args.errors:
        for row in rows:
            found = sentiment(row["text"], rules)
            if part(row["text"]) == args.errors and found.label != row["label"]:
                print(f"{row['label']:8} → {found.label:8} {found.score:6} {row['text']}  {list(found.terms)}")


if __name__ == "__main__":
    main()
