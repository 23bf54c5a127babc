"""A vehicle's dominant colour from its crop, in the hub's named palette. Pure numpy.

Per pixel: HSV, then a palette name (grey levels by brightness when the pixel has little
saturation, hue bands otherwise). Glass, tyres, shadows and road are mostly unsaturated, so a
car whose body is coloured shows fewer coloured pixels than its paint covers: a colour wins once
it holds a fair share of the body, else the body is white, silver, grey or black by brightness.
"""

import numpy as np
import numpy.typing as npt

from schemas.analytics import Colour

# The middle of the box: most of it is body, least of it road, sky or the next car.
INNER = (0.15, 0.85)
CHROMATIC_SATURATION = 0.3  # below this a pixel counts as white, silver, grey or black
MIN_CHROMATIC_VALUE = 0.15  # darker than this the hue is noise
CHROMATIC_SHARE = 0.2  # of the inner pixels, enough to call the car by its colour
MIN_SIDE = 4

# Hue bands in degrees (upper bounds) of the saturated pixels; red wraps around 0.
HUE_BANDS: tuple[tuple[float, Colour], ...] = (
    (15, Colour.RED),
    (40, Colour.ORANGE),  # brown when dark, see _hue_colours
    (70, Colour.YELLOW),
    (165, Colour.GREEN),
    (260, Colour.BLUE),
    (330, Colour.BLUE),  # violet and purple cars are called blue; the palette has neither
    (361, Colour.RED),
)
# Brightness (0..1) upper bounds of the unsaturated pixels' median.
GREY_LEVELS: tuple[tuple[float, Colour], ...] = (
    (0.22, Colour.BLACK),
    (0.45, Colour.GREY),
    (0.7, Colour.SILVER),
    (1.01, Colour.WHITE),
)


def to_hsv(bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """H x W x 3 BGR uint8 to hue (degrees 0..360), saturation and value (0..1)."""
    rgb = bgr[..., ::-1].astype(np.float64) / 255.0
    value = rgb.max(axis=-1)
    chroma = value - rgb.min(axis=-1)
    saturation = np.where(value > 0, chroma / np.maximum(value, 1e-9), 0.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    safe = np.maximum(chroma, 1e-9)
    hue = np.select(
        [chroma == 0, value == r, value == g],
        [0.0, ((g - b) / safe) % 6, (b - r) / safe + 2],
        default=(r - g) / safe + 4,
    )
    return np.stack((hue * 60.0, saturation, value), axis=-1)


def _hue_colours(hue: npt.NDArray[np.float64], value: npt.NDArray[np.float64]) -> list[Colour]:
    """The palette name of each saturated pixel."""
    bounds = np.array([upper for upper, _ in HUE_BANDS])
    names = [HUE_BANDS[i][1] for i in np.searchsorted(bounds, hue, side="right")]
    # Orange that is dark is brown (and so is a very dark red-orange or yellow).
    return [
        Colour.BROWN if name in (Colour.ORANGE, Colour.YELLOW) and v < 0.55 else name
        for name, v in zip(names, value, strict=True)
    ]


def dominant_colour(crop: npt.NDArray[np.uint8]) -> Colour | None:
    """The colour of the vehicle in `crop` (H x W x 3 uint8 BGR, the detection's box cut from
    the frame); None when the crop is too small to say."""
    if crop.ndim != 3 or crop.shape[2] != 3 or min(crop.shape[:2]) < MIN_SIDE:
        return None
    height, width = crop.shape[:2]
    top, bottom = (round(height * f) for f in INNER)
    left, right = (round(width * f) for f in INNER)
    hsv = to_hsv(crop[top:bottom, left:right]).reshape(-1, 3)
    hue, saturation, value = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    chromatic = (saturation >= CHROMATIC_SATURATION) & (value >= MIN_CHROMATIC_VALUE)
    if chromatic.mean() >= CHROMATIC_SHARE:
        names, counts = np.unique(
            np.array(_hue_colours(hue[chromatic], value[chromatic])), return_counts=True
        )
        return Colour(str(names[counts.argmax()]))
    level = float(np.median(value[~chromatic]))
    return next(name for upper, name in GREY_LEVELS if level < upper)
