"""Plate reading on the labelled EU set (../shared/data/alpr/eu, 108 photos, one plate each):
OCR throughput on the labelled crops, detector time per photo, exact-match accuracy end to end
and on the crops, with and without the "eu" format resolution.

  .venv/bin/python -c 'from bench.parts.plates import bench_plates; import json; \
      print(json.dumps(bench_plates()))'

Label format: one `NAME.txt` per photo, one line "file x y w h PLATE" (pixels, top-left corner).
Seven labels write the letter O where the plate's format has a digit and the photo shows a zero
(e.g. a Slovak "RK-099AN" labelled "RKO99AN"); tests/fixtures/alpr_eu_label_corrections.tsv
lists them, each checked against its photo. `exact_labels_as_given` counts against the labels as
they are, `exact_corrected_labels` against the corrected ones.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from hub.plates.reader import OCR_MODELS, Image, PlateReader
from schemas.analytics import Box

SHARED = Path(os.environ.get("C4HUB_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
EU_SET = SHARED / "data" / "alpr" / "eu"
MODELS = Path(os.environ.get("C4HUB_MODELS_DIR", SHARED / "models"))


@dataclass(frozen=True)
class Labelled:
    name: str
    image: Image
    box: tuple[int, int, int, int]  # x, y, w, h in pixels
    plate: str

    @property
    def crop(self) -> Image:
        x, y, w, h = self.box
        return self.image[y : y + h, x : x + w]


def load_eu_set(directory: Path = EU_SET) -> list[Labelled]:
    items = []
    for label in sorted(directory.glob("*.txt")):
        name, x, y, w, h, plate = label.read_text().split()
        image = cv2.imread(str(directory / name))
        if image is None:
            raise RuntimeError(f"cannot decode {directory / name}")
        items.append(Labelled(name, image, (int(x), int(y), int(w), int(h)), plate))
    return items


def _iou(box: Box, item: Labelled) -> float:
    height, width = item.image.shape[:2]
    x, y, w, h = item.box
    ax1, ay1, ax2, ay2 = (
        box.x * width,
        box.y * height,
        (box.x + box.w) * width,
        (box.y + box.h) * height,
    )
    ix = max(0.0, min(ax2, x + w) - max(ax1, x))
    iy = max(0.0, min(ay2, y + h) - max(ay1, y))
    inter = ix * iy
    return float(inter) / float(box.w * width * box.h * height + w * h - inter)


def end_to_end(reader: PlateReader, items: list[Labelled]) -> list[str | None]:
    """Per photo, the text read from the detection that overlaps the labelled plate best
    (IoU > 0.5), None when no detection does: the set labels one plate per photo."""
    out: list[str | None] = []
    for item in items:
        readings = [(r, _iou(r.box, item)) for r in reader.read_frame(item.image) if r.box]
        best = max(readings, key=lambda pair: pair[1], default=None)
        out.append(best[0].plate if best and best[1] > 0.5 else None)
    return out


def on_crops(reader: PlateReader, items: list[Labelled]) -> list[str | None]:
    return [r.plate if r else None for r in reader.read_crops([i.crop for i in items])]


CORRECTIONS = (
    Path(__file__).resolve().parents[2] / "tests" / "fixtures" / ("alpr_eu_label_corrections.tsv")
)


def corrections(path: Path = CORRECTIONS) -> dict[str, str]:
    """File name -> the plate the photo shows, for the labels found wrong (see the file)."""
    fixed = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, plate, _ = line.split("\t")
            fixed[name] = plate
    return fixed


def score(reads: list[str | None], items: list[Labelled]) -> dict[str, Any]:
    fixed = corrections()
    pairs = list(zip(reads, items, strict=True))
    return {
        "exact_labels_as_given": sum(r == i.plate for r, i in pairs),
        "exact_corrected_labels": sum(r == fixed.get(i.name, i.plate) for r, i in pairs),
        "labels_corrected": len(fixed),
        "of": len(items),
        "misses": [f"{i.name}: label {i.plate} read {r}" for r, i in pairs if r != i.plate],
    }


def _rate(reader: PlateReader, crops: list[Image], rounds: int = 5) -> float:
    reader.read_crops(crops)  # warm up
    start = time.perf_counter()
    for _ in range(rounds):
        reader.read_crops(crops)
    return rounds * len(crops) / (time.perf_counter() - start)


def _detector_ms(reader: PlateReader, items: list[Labelled]) -> float:
    reader.detect(items[0].image)
    start = time.perf_counter()
    for item in items:
        reader.detect(item.image)
    return 1000 * (time.perf_counter() - start) / len(items)


def bench_plates() -> dict[str, Any]:
    """The reader as deployed (both OCR models, "eu" formats) against the bare models: each
    OCR model alone, no format resolution."""
    items = load_eu_set()
    eu = PlateReader(MODELS, region="eu")
    crops = [i.crop for i in items]
    result: dict[str, Any] = {
        "ocr_plates_per_s_batched": round(_rate(eu, crops), 1),
        "ocr_plates_per_s_one_by_one": round(
            len(crops) / _timed(lambda: [eu.read_crop(c) for c in crops]), 1
        ),
        "detector_ms_per_image": round(_detector_ms(eu, items), 1),
        "end_to_end": score(end_to_end(eu, items), items),
        "crops": score(on_crops(eu, items), items),
        "ocr_models": [onnx for onnx, _ in OCR_MODELS],
        "region": "eu",
    }
    for onnx, config in OCR_MODELS:
        bare = PlateReader(MODELS, region=None, ocr_models=[(onnx, config)])
        name = onnx.removesuffix(".onnx")
        result[f"end_to_end_bare_{name}"] = score(end_to_end(bare, items), items)
        result[f"crops_bare_{name}"] = score(on_crops(bare, items), items)
    return result


def _timed(work: Any) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(bench_plates(), indent=1))
