"""Per-track voting over a plate's reads across frames."""

import pytest

from hub.plates.voting import Read, vote


def test_unanimous_reads_win_with_their_confidence() -> None:
    reads = [Read("RK099AN", [0.9] * 7), Read("RK099AN", [0.9] * 7)]
    result = vote(reads)
    assert result is not None
    assert result[0] == "RK099AN"
    assert result[1] == pytest.approx(1.0)


def test_characters_are_voted_position_by_position() -> None:
    reads = [
        Read("RK099AN", [0.9] * 7),
        Read("RK0994N", [0.9, 0.9, 0.9, 0.9, 0.9, 0.4, 0.9]),
        Read("RKO99AN", [0.9, 0.9, 0.5, 0.9, 0.9, 0.9, 0.9]),
    ]
    result = vote(reads)
    assert result is not None
    text, confidence = result
    assert text == "RK099AN"
    assert 0.5 < confidence < 1.0


def test_a_confident_minority_beats_an_unsure_majority() -> None:
    reads = [
        Read("AB1", [0.9, 0.9, 0.95]),
        Read("AB7", [0.9, 0.9, 0.3]),
        Read("AB7", [0.9, 0.9, 0.3]),
    ]
    result = vote(reads)
    assert result is not None and result[0] == "AB1"


def test_the_length_most_reads_agree_on_wins() -> None:
    reads = [Read("BA302OZ", [0.8] * 7), Read("BA302OZ", [0.8] * 7), Read("BA30OZ", [0.9] * 6)]
    result = vote(reads)
    assert result is not None
    assert result[0] == "BA302OZ"
    assert result[1] == pytest.approx(1.6 / 2.5)


def test_nothing_to_vote_on() -> None:
    assert vote([]) is None
    assert vote([Read("", [])]) is None
    assert vote([Read("AB", [0.5])]) is None  # confidences do not match the text
