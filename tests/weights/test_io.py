"""Weights files vsrkit writes: the user's usual permissions, and what was written reads back."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from vsrkit import create_model
from vsrkit.weights.io import load_model, read_metadata, save_weights


def test_saved_weights_get_the_users_permissions_and_read_back(tmp_path: Path) -> None:
    # safetensors' own save_file makes the file private (0600); weights are made to be shared.
    model = create_model("rlsp-7-48", pretrained=False, filters=8)
    path = save_weights(model, tmp_path / "w.safetensors", extra={"source": "test"})
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]
    assert read_metadata(path)["source"] == "test"
    loaded = load_model(path)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
