"""The tamper checks on synthetic frames: each fires on its own fault and not on a sound view."""

import numpy as np
import numpy.typing as npt
import pytest

from adapters import tamper

Image = npt.NDArray[np.float64]
HEIGHT, WIDTH = 216, 384


def scene(seed: int = 0) -> Image:
    """A street-like view: large areas of different brightness plus fine texture."""
    rng = np.random.default_rng(seed)
    image = np.full((HEIGHT, WIDTH), 110.0)
    image[:80, :] = 170.0  # sky
    image[80:, 40:140] = 60.0  # a building
    image[150:, 200:] = 130.0  # the road
    image[100:130, 260:330] = 200.0  # a sign
    image += rng.normal(0, 12, image.shape)  # texture
    clipped: Image = np.clip(image, 0, 255)
    return clipped


def box_blur(image: Image, radius: int) -> Image:
    padded = np.pad(image, radius, mode="edge")
    out = np.zeros_like(image)
    size = 2 * radius + 1
    for dy in range(size):
        for dx in range(size):
            out += padded[dy : dy + HEIGHT, dx : dx + WIDTH]
    return out / size**2


def noisy(image: Image, seed: int, sigma: float = 2.0) -> Image:
    return image + np.random.default_rng(seed).normal(0, sigma, image.shape)


def test_a_dim_uniform_frame_is_dark_and_the_scene_is_not() -> None:
    assert tamper.is_dark(scene() / 24)
    assert tamper.is_dark(np.zeros((HEIGHT, WIDTH), dtype=np.uint8))
    assert not tamper.is_dark(scene())


def test_a_dark_night_scene_with_lights_is_not_dark() -> None:
    night = scene() / 24
    night[::20, ::20] = 255  # street lights and lit windows
    mean, std = tamper.luminance(night)
    assert mean < tamper.DARK_MEAN_MAX and std >= tamper.DARK_STD_MAX
    assert not tamper.is_dark(night)


def test_sharpness_drops_under_blur_below_the_defocus_ratio() -> None:
    sharp = scene()
    baseline = tamper.sharpness(sharp)
    blurred = box_blur(sharp, radius=4)
    assert tamper.sharpness(blurred) < tamper.DEFOCUS_RATIO_MIN * baseline
    assert tamper.is_defocused(blurred, baseline)
    assert not tamper.is_defocused(noisy(scene(), seed=1), baseline)


def test_sharpness_of_a_uniform_frame_is_zero_and_the_baseline_must_be_positive() -> None:
    assert tamper.sharpness(np.full((10, 10), 128)) == 0.0
    with pytest.raises(ValueError, match="baseline must be positive"):
        tamper.is_defocused(scene(), 0.0)


def test_the_same_view_with_noise_and_other_light_matches_its_reference() -> None:
    reference = scene()
    brighter = noisy(reference, seed=2) * 0.8 + 30  # dusk, auto exposure
    assert tamper.scene_similarity(brighter, reference) > 0.95
    assert not tamper.is_scene_changed(brighter, reference)


def test_a_blurred_view_still_matches_its_reference() -> None:
    reference = scene()
    assert not tamper.is_scene_changed(box_blur(reference, radius=4), reference)


def test_a_moved_camera_no_longer_matches_its_reference() -> None:
    reference = scene()
    moved = np.pad(reference, ((0, 54), (0, 96)), mode="edge")[54:, 96:]
    assert tamper.scene_similarity(moved, reference) < tamper.SCENE_SIMILARITY_MIN
    assert tamper.is_scene_changed(moved, reference)


def test_an_obstructed_view_no_longer_matches_its_reference() -> None:
    reference = scene()
    obstructed = reference.copy()
    obstructed[:, : WIDTH // 2] = 90.0  # a truck parked in front of the lens
    assert tamper.is_scene_changed(obstructed, reference)


def test_a_uniform_frame_has_similarity_zero() -> None:
    assert tamper.scene_similarity(np.full((HEIGHT, WIDTH), 50.0), scene()) == 0.0


def test_frames_of_another_size_compare_on_the_same_grid() -> None:
    reference = scene()
    half = reference[::2, ::2]
    assert tamper.scene_similarity(half, reference) > 0.95


def test_repeated_frames_are_frozen_and_live_ones_are_not() -> None:
    still = scene()
    assert tamper.frame_change([still] * 5) == 0.0
    assert tamper.is_frozen([still] * 5)
    live = [noisy(still, seed=i, sigma=1.0) for i in range(5)]
    assert tamper.frame_change(live) > tamper.FROZEN_CHANGE_MAX
    assert not tamper.is_frozen(live)


def test_a_frozen_window_tolerates_one_keyframe_jolt() -> None:
    # A keyframe re-encodes the stuck picture with other noise, which the frames after it copy.
    still = scene()
    rekeyed = noisy(still, seed=3, sigma=1.0)
    assert tamper.is_frozen([still, still, rekeyed, rekeyed, rekeyed])


def test_the_frozen_check_needs_two_frames_of_one_size() -> None:
    with pytest.raises(ValueError, match="at least two frames"):
        tamper.frame_change([scene()])
    with pytest.raises(ValueError, match="same size"):
        tamper.frame_change([scene(), scene()[:100]])


def test_frames_must_be_grayscale() -> None:
    with pytest.raises(ValueError, match="2-D grayscale"):
        tamper.sharpness(np.zeros((HEIGHT, WIDTH, 3)))


def test_assess_a_sound_window_fires_nothing_and_reports_every_measure() -> None:
    reference = scene()
    window = [noisy(reference, seed=i) for i in range(4)]
    verdict = tamper.assess(
        window, baseline_sharpness=tamper.sharpness(reference), reference=reference
    )
    assert verdict.fired == ()
    assert verdict.sharpness_ratio is not None and 0.8 < verdict.sharpness_ratio < 1.5
    assert verdict.scene_similarity is not None and verdict.scene_similarity > 0.95
    assert verdict.frame_change is not None and verdict.frame_change > tamper.FROZEN_CHANGE_MAX


def test_assess_flags_each_fault_alone() -> None:
    reference = scene()
    baseline = tamper.sharpness(reference)
    moved = np.pad(reference, ((0, 54), (0, 96)), mode="edge")[54:, 96:]
    cases = {
        "defocused": [box_blur(noisy(reference, seed=i), radius=4) for i in range(3)],
        "scene_changed": [noisy(moved, seed=i) for i in range(3)],
        "frozen": [reference] * 3,
    }
    for name, window in cases.items():
        verdict = tamper.assess(window, baseline_sharpness=baseline, reference=reference)
        assert verdict.fired == (name,), (name, verdict)


def test_a_dark_view_masks_the_other_checks() -> None:
    reference = scene()
    dark = reference / 24
    verdict = tamper.assess(
        [dark, dark], baseline_sharpness=tamper.sharpness(reference), reference=reference
    )
    assert verdict.fired == ("dark",)
    assert verdict.sharpness is None and verdict.scene_similarity is None
    assert verdict.frame_change is None
    assert verdict.mean_luminance < tamper.DARK_MEAN_MAX


def test_assess_without_baseline_reference_or_window_skips_those_checks() -> None:
    verdict = tamper.assess([scene()])
    assert verdict.fired == ()
    assert (verdict.sharpness_ratio, verdict.scene_similarity, verdict.frame_change) == (
        None,
        None,
        None,
    )
    assert verdict.sharpness is not None and verdict.sharpness > 0
