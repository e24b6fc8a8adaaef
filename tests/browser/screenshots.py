"""Where the browser tests keep their screenshots: ASSIST_SCREENSHOT_DIR when set (a stable folder to look at
after a run), else the test's own temporary folder."""

from __future__ import annotations

import os
from pathlib import Path


def screenshot_path(tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("ASSIST_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
