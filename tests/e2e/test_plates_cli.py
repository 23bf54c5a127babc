"""`c4hub plates read` as an operator runs it: JSON lines, --crop, and one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from bench.parts.plates import EU_SET, MODELS
from hub.plates.reader import DETECTOR_FILE

C4HUB = str(Path(sys.executable).parent / "c4hub")


def plates(*args: str | Path, models: Path = MODELS) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "C4HUB_MODELS_DIR": str(models)}
    return subprocess.run(
        [C4HUB, "plates", "read", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_reads_photos_and_prints_json_lines(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((480, 640, 3), 128, dtype=np.uint8))
    done = plates(EU_SET / "test_002.jpg", blank, "--region", "sk")
    assert done.returncode == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["file"].endswith("test_002.jpg")
    assert first["plate"] == "RK755AJ"
    assert 0.5 < first["confidence"] <= 1
    assert set(first["box"]) == {"x", "y", "w", "h"}
    assert all(0 <= v <= 1 for v in first["box"].values())
    assert second == {"file": str(blank), "plate": None, "confidence": None, "box": None}


def test_crop_mode_reads_a_plate_crop(tmp_path: Path) -> None:
    image = cv2.imread(str(EU_SET / "test_002.jpg"))
    assert image is not None
    crop = tmp_path / "crop.png"
    cv2.imwrite(str(crop), image[200:228, 213:337])  # the labelled box
    done = plates("--crop", crop)
    assert done.returncode == 0, done.stderr
    (line,) = (json.loads(x) for x in done.stdout.splitlines())
    assert line["plate"] == "RK755AJ"
    assert line["box"] is None


def test_a_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    done = plates(tmp_path / "nope.jpg")
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert "nope.jpg" in done.stderr and "no such file" in done.stderr


def test_a_corrupt_model_is_a_one_line_error_naming_file_and_setting(tmp_path: Path) -> None:
    for model in MODELS.iterdir():
        if model.name.startswith(("yolo-v9-t-416", "cct_xs_")):
            data = model.read_bytes()
            (tmp_path / model.name).write_bytes(
                data[:5000] if model.name == DETECTOR_FILE else data
            )
    done = plates(EU_SET / "test_002.jpg", models=tmp_path)
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert str(tmp_path / DETECTOR_FILE) in done.stderr
    assert "C4HUB_MODELS_DIR" in done.stderr


def test_an_undecodable_image_and_an_unknown_region_are_one_line_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a picture")
    done = plates(junk)
    assert done.returncode != 0
    assert "junk.jpg" in done.stderr and done.stderr.strip().count("\n") == 0
    done = plates(EU_SET / "test_002.jpg", "--region", "xx")
    assert done.returncode != 0
    assert "--region" in done.stderr and "sk" in done.stderr
