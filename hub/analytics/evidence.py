"""Evidence pictures: the frames that caused events and the plate crops, as JPEG files under
the node's data directory, referred to by a relative path (what events and reads carry).

Files, not database rows: evidence is large, written once, read rarely, and dropped by age
with its directory (one per camera and day), which is how retention removes it cheaply.
"""

import uuid
from datetime import datetime
from pathlib import Path

import cv2

from adapters.base import ColorFrame

JPEG_QUALITY = 85


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, camera_id: uuid.UUID, at: datetime, frame: ColorFrame, kind: str) -> str:
        """Store `frame` (BGR) as a JPEG; its reference, relative to the store's root."""
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise ValueError("the frame could not be encoded as JPEG")
        return self.put_jpeg(camera_id, at, bytes(jpeg), kind)

    def put_jpeg(self, camera_id: uuid.UUID, at: datetime, jpeg: bytes, kind: str) -> str:
        day = at.strftime("%Y-%m-%d")
        name = f"{at.strftime('%H%M%S.%f')}-{kind}-{uuid.uuid4().hex[:8]}.jpg"
        relative = Path(str(camera_id)) / day / name
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jpeg)
        return relative.as_posix()

    def path(self, reference: str) -> Path:
        """The file of a reference, refusing any that would leave the store."""
        path = (self.root / reference).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("not an evidence reference")
        return path
