"""torch.hub finds every registered model in the checkout and builds it as create_model does."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from vsrkit import create_model, list_models

ROOT = Path(__file__).resolve().parents[1]


def test_hub_entry_points_are_the_registered_models() -> None:
    spec = importlib.util.spec_from_file_location("hubconf", ROOT / "hubconf.py")
    assert spec is not None and spec.loader is not None
    hubconf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hubconf)
    # What torch.hub.list reports: the module's public callables.
    entries = [name for name in dir(hubconf) if callable(getattr(hubconf, name)) and not name.startswith("_")]
    assert sorted(entries) == sorted(n.replace("-", "_") for n in list_models())
    assert all(importlib.util.find_spec(module) is not None for module in hubconf.dependencies)


def test_hub_load_gives_create_models_model_with_its_shipped_weights() -> None:
    hub = torch.hub.load(str(ROOT), "default_fast", source="local", trust_repo=True)
    ours = create_model("default-fast")
    assert type(hub) is type(ours)
    assert all(torch.equal(a, b) for a, b in zip(hub.state_dict().values(), ours.state_dict().values(), strict=True))
    tiny = torch.hub.load(str(ROOT), "rlsp_7_64", source="local", trust_repo=True, pretrained=False, filters=8)
    assert tiny(torch.rand(1, 2, 3, 8, 8)).shape == (1, 2, 1, 32, 32)
