"""Many simulated ONVIF devices on 127.0.0.1, in one process apart from the one measuring.

    .venv/bin/python -m bench.sim.onvif --cameras 100

Each device is the tests' recorded camera (tests.fixtures.onvif_servers.agsh_camera: the
agsh/onvif mock-up's captured SOAP answers, replayed by operation) on its own port. Prints
`READY <port> <port> ...` on stdout once all listen, and exits when its stdin closes, so it
never outlives the benchmark that started it.
"""

import argparse
import os
import sys
from contextlib import ExitStack

from tests.fixtures.onvif_servers import agsh_camera


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=100)
    args = parser.parse_args()
    with ExitStack() as stack:
        ports = [stack.enter_context(agsh_camera()).port for _ in range(args.cameras)]
        print("READY", *ports, flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)
        # Leave without unwinding: each server's shutdown waits up to half a second for its
        # loop, a minute for a hundred, while the kernel closes every socket at exit at once.
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
