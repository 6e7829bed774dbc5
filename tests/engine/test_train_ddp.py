"""``torchrun --nproc-per-node 2`` (gloo, CPU): ranks stay identical and match one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _train_utils import make_clip, tiny_config

from vsrkit.engine.config import config_from_dict
from vsrkit.engine.train import load_checkpoint, train

HERE = Path(__file__).parent


@pytest.mark.slow
def test_ddp_two_ranks_match_single_process(tmp_path: Path) -> None:
    data = make_clip(tmp_path / "clip")
    cfg = tiny_config(tmp_path, data, "ddp", iterations=4, ema=0.0)
    cfg["data"]["batch_size"] = 4  # global batch: 2 per rank
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         str(HERE / "_ddp_train.py"), str(cfg_path), str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt")
    rank1 = torch.load(tmp_path / "rank1.pt")
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    # Rank 0 alone wrote the checkpoint.
    assert load_checkpoint(tmp_path / "ddp/checkpoints/last.pt")["iteration"] == 4

    single = train(config_from_dict({**cfg, "run_dir": str(tmp_path / "single")}), log=lambda *_: None)
    ref = single.model.state_dict()
    moved = max((ref[k] - load_checkpoint(tmp_path / "ddp/checkpoints/last.pt")["model"][k]).abs().max().item()
                for k in ref)
    for k in ref:
        torch.testing.assert_close(rank0[k], ref[k], rtol=1e-4, atol=1e-5)
    assert moved < 1e-5
    # And training did change the weights (so the comparison means something).
    init = train(config_from_dict({**cfg, "iterations": 1, "run_dir": str(tmp_path / "one")}), log=lambda *_: None)
    assert any(not torch.allclose(init.model.state_dict()[k], ref[k], atol=1e-5) for k in ref)
