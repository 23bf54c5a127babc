"""Runs `c4hub camera probe` as a user would, for the e2e tests of both adapters."""

import os
import subprocess
import sys
from pathlib import Path

C4HUB = str(Path(sys.executable).parent / "c4hub")


def c4hub(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """`c4hub camera probe ARGS`; the password, if any, goes in C4HUB_CAMERA_PASSWORD."""
    env = {k: v for k, v in os.environ.items() if k != "C4HUB_CAMERA_PASSWORD"}
    if password is not None:
        env["C4HUB_CAMERA_PASSWORD"] = password
    return subprocess.run(
        [C4HUB, "camera", "probe", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
