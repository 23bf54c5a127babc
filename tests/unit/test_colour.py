"""Vehicle colour from synthetic crops (the real car is in tests/integration/test_detectors.py)."""

import numpy as np
import pytest

from hub.analytics.colour import dominant_colour, to_hsv
from schemas.analytics import Colour


def patch(bgr: tuple[int, int, int], size: int = 40) -> np.ndarray:
    return np.full((size, size, 3), bgr, dtype=np.uint8)


@pytest.mark.parametrize(
    ("bgr", "colour"),
    [
        ((250, 250, 250), Colour.WHITE),
        ((170, 170, 170), Colour.SILVER),
        ((90, 90, 90), Colour.GREY),
        ((20, 20, 20), Colour.BLACK),
        ((30, 30, 200), Colour.RED),
        ((160, 40, 20), Colour.BLUE),
        ((40, 160, 40), Colour.GREEN),
        ((20, 220, 230), Colour.YELLOW),
        ((0, 130, 240), Colour.ORANGE),
        ((30, 60, 100), Colour.BROWN),
        ((120, 30, 110), Colour.BLUE),  # purple: the palette has no violet
    ],
)
def test_solid_patches_get_their_palette_name(bgr: tuple[int, int, int], colour: Colour) -> None:
    assert dominant_colour(patch(bgr)) is colour


def test_a_red_body_wins_over_dark_glass_and_grey_road() -> None:
    crop = patch((80, 80, 80), 100)  # road around the car
    crop[20:80, 20:80] = (30, 30, 190)  # red body
    crop[30:50, 25:75] = (25, 25, 25)  # windscreen
    assert dominant_colour(crop) is Colour.RED


def test_a_white_car_on_dark_asphalt_is_white() -> None:
    crop = patch((50, 50, 50), 100)
    crop[10:90, 10:90] = (235, 235, 235)
    crop[40:55, 15:85] = (20, 20, 20)  # rear window
    assert dominant_colour(crop) is Colour.WHITE


def test_a_few_coloured_pixels_do_not_colour_a_grey_car() -> None:
    crop = patch((100, 100, 100), 100)
    crop[60:70, 20:40] = (0, 0, 255)  # tail light
    assert dominant_colour(crop) is Colour.GREY


def test_too_small_or_wrong_crops_have_no_colour() -> None:
    assert dominant_colour(patch((30, 30, 200), 3)) is None
    assert dominant_colour(np.zeros((40, 40), dtype=np.uint8)) is None


def test_hsv_matches_the_textbook_values() -> None:
    pixels = np.array([[[0, 0, 255], [0, 255, 0], [255, 0, 0], [128, 128, 128]]], dtype=np.uint8)
    hsv = to_hsv(pixels)[0]
    assert hsv[:, 0].tolist() == pytest.approx([0, 120, 240, 0])
    assert hsv[:, 1].tolist() == pytest.approx([1, 1, 1, 0])
    assert hsv[3, 2] == pytest.approx(128 / 255)
