"""Per-track voting over the reads of one vehicle's plate across frames (pure).

Reads of one track rarely agree on every character: a frame is blurred, the plate half turned.
Votes go first on the length (the total confidence of the reads of each length), then,
among the reads of the winning length, character by character, each weighted by that read's
confidence for that character. The winner's confidence is the mean, over positions, of the
winning character's share of the weight there, times the share of the winning length.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Read:
    text: str
    char_confidences: Sequence[float]  # one per character of text, 0..1


def vote(reads: Sequence[Read]) -> tuple[str, float] | None:
    """The track's plate and a confidence in 0..1; None when there is nothing to vote on."""
    usable = [r for r in reads if r.text and len(r.char_confidences) == len(r.text)]
    if not usable:
        return None
    by_length: dict[int, float] = defaultdict(float)
    for read in usable:
        by_length[len(read.text)] += sum(read.char_confidences) / len(read.text)
    total = sum(by_length.values())
    # Ties go to the longer text: a dropped character is a commoner error than an extra one.
    length = max(by_length, key=lambda n: (by_length[n], n))
    same = [r for r in usable if len(r.text) == length]
    chars: list[str] = []
    shares: list[float] = []
    for i in range(length):
        weights: dict[str, float] = defaultdict(float)
        for read in same:
            weights[read.text[i]] += read.char_confidences[i]
        best = max(sorted(weights), key=lambda c: weights[c])
        chars.append(best)
        position_total = sum(weights.values())
        shares.append(weights[best] / position_total if position_total > 0 else 0.0)
    length_share = by_length[length] / total if total > 0 else 0.0
    return "".join(chars), min(1.0, length_share * sum(shares) / length)
