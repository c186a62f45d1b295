"""The console's upload limit and the importer's are one figure: a file the uploader lets through is
never refused for its size by the importer, and the other way round."""

from __future__ import annotations

import tomllib
from pathlib import Path

from app.domain.intake.csv_file import MAX_FILE_BYTES

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_streamlits_max_upload_size_is_the_importers_limit() -> None:
    megabytes = tomllib.loads(CONFIG.read_text())["server"]["maxUploadSize"]
    assert megabytes * 1024 * 1024 == MAX_FILE_BYTES  # Streamlit counts a megabyte as 1024 × 1024 bytes
