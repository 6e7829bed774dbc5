import json
import math
from pathlib import Path

from vsrkit.io.jsonfile import write_json


def test_strict_json_with_infinite_psnr(tmp_path: Path) -> None:
    path = write_json(tmp_path / "sub" / "r.json", {"psnr": math.inf, "frames": [{"psnr": 30.5}, {"psnr": -math.inf}]})
    text = path.read_text()
    assert "Infinity" not in text
    assert json.loads(text) == {"psnr": None, "frames": [{"psnr": 30.5}, {"psnr": None}]}
    assert not list(path.parent.glob(".*.part"))
