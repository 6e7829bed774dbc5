"""Run by test_train_ddp.py under torchrun: train a tiny config, save this rank's final weights."""

import json
import os
import sys
from pathlib import Path

import torch

from vsrkit.engine.config import config_from_dict
from vsrkit.engine.train import train

cfg_path, out_dir = sys.argv[1], sys.argv[2]
torch.set_num_threads(1)
result = train(config_from_dict(json.loads(Path(cfg_path).read_text())), log=lambda *_: None)
torch.save(result.model.state_dict(), os.path.join(out_dir, f"rank{os.environ['RANK']}.pt"))
