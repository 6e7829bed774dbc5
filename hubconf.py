"""``torch.hub`` entry points: every registered vsrkit model, with its shipped weights where it has them.

    torch.hub.list("OWNER/vsrkit")                       # the models (names with "_" for "-")
    model = torch.hub.load("OWNER/vsrkit", "default")     # or source="local" with a checkout's folder
    model = torch.hub.load("OWNER/vsrkit", "rlsp_7_64", pretrained=False, filters=32)

A hub checkout is not installed, so the package is imported from its ``src`` folder; the weights ship inside it.
Models take ``(B, T, 3, H, W)`` RGB in [0, 1]; see README "Models" for what each returns. Every name at this
module's top level that does not start with ``_`` is an entry point (torch.hub lists the callables).
"""

import sys as _sys
from pathlib import Path as _Path

dependencies = ["torch", "numpy", "scipy", "PIL", "safetensors", "yaml", "av", "cv2"]

_SRC = str(_Path(__file__).resolve().parent / "src")
if _SRC not in _sys.path:
    _sys.path.insert(0, _SRC)

from vsrkit.models import create_model as _create_model
from vsrkit.models import list_models as _list_models


def _entry(name):  # type: ignore[no-untyped-def]
    def load(pretrained=True, **overrides):  # type: ignore[no-untyped-def]
        return _create_model(name, pretrained=pretrained, **overrides)

    load.__name__ = name.replace("-", "_")
    load.__doc__ = (f"vsrkit's {name!r} (``vsrkit.create_model({name!r}, ...)``): ``pretrained`` loads its shipped "
                    "weights if it has any; keyword arguments replace its constructor's.")
    return load


for _name in _list_models():
    globals()[_name.replace("-", "_")] = _entry(_name)
