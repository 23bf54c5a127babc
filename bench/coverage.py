"""Planning benchmark (issue: planners' map): prints one JSON object.

- "coverage": coverage, breakdowns and gap polygons of a city region with 10,000 and 100,000
  cameras (targets <= 1 s and <= 15 s), with shapely 2's union of the same sectors measured in
  the same run as the baseline, and the ratio;
- "placement": greedy placement of k = 50 over 10,000 candidate sites (target <= 10 s);
- "map": first render of the web map with 50,000 cameras in headless chromium (target <= 2 s).

  .venv/bin/python -m bench.coverage [--skip coverage,placement,map]
"""

import argparse
import json
import sys
from collections.abc import Callable

from bench.parts import coverage, map_render, placement

SECTIONS: dict[str, Callable[[], object]] = {
    "coverage": coverage.measure,
    "placement": placement.measure,
    "map": map_render.measure,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip", default="", help="sections to leave out, comma-separated")
    args = parser.parse_args()
    skipped = {name.strip() for name in args.skip.split(",") if name.strip()}
    unknown = skipped - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section {', '.join(sorted(unknown))}; use {', '.join(SECTIONS)}")
    result = {name: run() for name, run in SECTIONS.items() if name not in skipped}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
