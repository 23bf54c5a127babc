"""Analytics benchmark: prints one JSON object (progress notes go to stderr).

- "detectors": ms per frame at 416 and 640 for each backend, whole call and bare model;
- "pipeline": frames/s of the whole per-frame analysis against the bare model, same run
  (target >= 0.85), and "latency": frame to stored event, p50/p95, through PostgreSQL;
- "plates": plates read per second by OCR on crops (target >= 100/s), detector ms per image,
  and exact-match accuracy end to end on the 108 labelled EU photos (target >= 97 %);
- "hotlists": import rate of a 1,000,000-row national list and match time per read
  (target <= 1 ms p95).

  .venv/bin/python -m bench.analytics [--skip detectors,plates,...]
"""

import argparse
import json
import sys
from collections.abc import Callable

from bench.parts.detectors import bench_detectors
from bench.parts.hotlists import bench_hotlists
from bench.parts.pipeline import bench_latency, bench_pipeline
from bench.parts.plates import bench_plates

SECTIONS: dict[str, Callable[[], object]] = {
    "detectors": bench_detectors,
    "pipeline": bench_pipeline,
    "latency": bench_latency,
    "plates": bench_plates,
    "hotlists": bench_hotlists,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip", default="", help="sections to leave out, comma-separated")
    args = parser.parse_args()
    skipped = {name.strip() for name in args.skip.split(",") if name.strip()}
    unknown = skipped - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section {', '.join(sorted(unknown))}; use {', '.join(SECTIONS)}")
    result: dict[str, object] = {}
    for name, run in SECTIONS.items():
        if name not in skipped:
            print(f"bench.analytics: {name}", file=sys.stderr, flush=True)
            result[name] = run()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
