"""``vsrkit models``: every registered model, and for shipped weights what they were trained for and scored."""

from __future__ import annotations

import json
import sys

import pytest

from vsrkit.cli.main import main
from vsrkit.models import get_preset, list_models
from vsrkit.weights.io import read_metadata


def _models_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    monkeypatch.setattr(sys, "argv", ["vsrkit", "models", "--json"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code in (0, None)
    return json.loads(capsys.readouterr().out)


def test_models_json_lists_the_registry_with_shipped_scores(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = {r["name"]: r for r in _models_json(capsys, monkeypatch)}
    assert sorted(rows) == sorted(list_models())
    shipped = [name for name in rows if get_preset(name).weights is not None]
    assert "default" in shipped and "default-bd" in shipped
    for name, row in rows.items():
        if name not in shipped:
            assert row["weights"] is None and row["vid4"] is None
            continue
        # The score shown is the one measured under the degradation the weights were trained for.
        assert row["vid4"]["setting"].split("+")[0] == row["degradation"]
        stored = json.loads(read_metadata(get_preset(name).weights)["metrics"])["vid4"][row["vid4"]["setting"]]
        assert row["vid4"]["psnr"] == stored["psnr"]
    assert rows["default"]["vid4"]["setting"] == "bi+basicsr-y"
    assert rows["default-bd"]["vid4"]["setting"] == "gauss1.5+rlsp"
