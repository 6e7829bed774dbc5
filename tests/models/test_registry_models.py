"""Registry-generated checks: every model gets shape, no-NaN, gradient-coverage and save/load tests.

Tiny constructor overrides keep each model fast on CPU; a model missing from ``TINY`` fails the
coverage test, so new architectures cannot slip in untested.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vsrkit import create_model, list_models
from vsrkit.models import StreamingVSRModel, count_parameters
from vsrkit.weights.io import load_model, save_weights

# Per preset: constructor overrides giving a tiny model, and the input (T, H, W).
TINY: dict[str, dict] = {
    "bicubic": {},
    "rlsp-7-48": {"filters": 8},
    "rlsp-7-64": {"filters": 8},
    "rlsp-7-128": {"filters": 8},
    "rlsp-7-256": {"filters": 8},
    "rlsp-rgb": {"filters": 8},
    "rlsp-dis-7-48": {"filters": 8},
    "rlsp-dis-10-64": {"filters": 8},
    "rlsp-bi-dis-10-64": {"filters": 8},
    "rlsp-bi-dis-7-48": {"filters": 8},
    "rlsp-dis-10-96": {"filters": 8},
    "rlsp-bi-dis-10-96": {"filters": 8},
    "default": {"filters": 8},
    "default-bd": {"filters": 8},
    "default-bd-causal": {"filters": 8},
    "default-causal": {"filters": 8},
    "default-fast": {"filters": 8},
    "default-fast-x264": {"filters": 8},
    "default-x264": {"filters": 8},
    "mrvsr": {"filters": 8, "srnl_size": 8},
    "rfs3": {"filters": 8},
    "hirn": {"mid_channels": 8, "num_blocks": 1, "extract_blocks": 1, "recon_blocks": 1, "deform_groups": 4, "hr_channels": 8},
    "hirn-tiny": {"mid_channels": 8, "deform_groups": 4},
    "iart": {"embed_dim": 12, "num_layers": 1, "depth": 2, "num_heads": 2, "mid_channels": 8, "hr_channels": 8, "drop_path_rate": 0.0, "unused_layers": False},
    "iart-tiny": {"embed_dim": 12},
    "cascade-bicubic-linear": {},
    "davsr": {"mid_channels": 8, "num_extract_blocks": 1, "num_propagation_blocks": 1, "num_reconstruction_blocks": 1, "deform_groups": 4, "hr_channels": 8, "iterations": 2},
    "davsr-tiny": {"mid_channels": 8, "hr_channels": 8, "iterations": 1},
}
INPUT_SIZE: dict[str, tuple[int, int, int]] = {"davsr": (2, 8, 8), "davsr-tiny": (2, 8, 8)}
DEFAULT_SIZE = (4, 12, 16)


def _tiny(name: str) -> torch.nn.Module:
    return create_model(name, pretrained=False, **TINY[name])


def _clip(name: str) -> torch.Tensor:
    t, h, w = INPUT_SIZE.get(name, DEFAULT_SIZE)
    return torch.rand(1, t, 3, h, w)


STREAMING = [n for n in list_models() if issubclass(create_model(n, pretrained=False, **TINY[n]).__class__, StreamingVSRModel)]


def test_every_model_has_a_tiny_config() -> None:
    assert sorted(TINY) == list_models()


@pytest.mark.parametrize("name", list_models())
def test_shape_and_finite(name: str) -> None:
    model = _tiny(name).eval()
    clip = _clip(name)
    with torch.no_grad():
        out = model(clip)
    t, h, w = clip.shape[1], clip.shape[-2], clip.shape[-1]
    expected = (1, t * model.temporal_scale, model.out_channels, h * model.scale, w * model.scale)
    assert tuple(out.shape) == expected
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", [n for n in list_models() if count_parameters(n) > 0])
def test_gradient_reaches_every_parameter(name: str) -> None:
    model = _tiny(name).train()
    model(_clip(name)).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert not missing, f"parameters without gradient: {missing}"


@pytest.mark.parametrize("name", list_models())
def test_save_load_roundtrip(name: str, tmp_path: Path) -> None:
    model = _tiny(name).eval()
    path = save_weights(model, tmp_path / "w.safetensors")
    clone = load_model(path).eval()
    assert type(clone) is type(model) and clone.hparams == model.hparams
    clip = _clip(name)
    with torch.no_grad():
        torch.testing.assert_close(model(clip), clone(clip), rtol=0, atol=0)


@pytest.mark.parametrize("name", STREAMING)
def test_streaming_equals_whole_sequence(name: str) -> None:
    """Frame-by-frame stepping with explicit state gives exactly the whole-sequence output."""
    model = _tiny(name).eval()
    clip = _clip(name)
    with torch.no_grad():
        whole = model(clip)
        state = model.initial_state(clip[:, 0])
        r = model.radius
        padded = torch.cat([clip[:, :1]] * r + [clip] + [clip[:, -1:]] * r, dim=1)
        frames = []
        for t in range(clip.shape[1]):
            out, state = model.step(padded[:, t : t + 2 * r + 1], state)
            frames.append(out)
    torch.testing.assert_close(torch.stack(frames, 1), whole, rtol=0, atol=0)


@pytest.mark.parametrize("name", [n for n in STREAMING if _tiny(n).kind == "recurrent"])
def test_burn_in_outputs_the_later_frames_and_trains_every_parameter(name: str) -> None:
    """Burn-in frames build the state only: the outputs after them are the whole run's, and the frames that
    keep autograd still reach every parameter (SRNL's per-sequence weight cache must not be the no-grad one)."""
    model = _tiny(name).eval()
    clip = _clip(name)
    with torch.no_grad():
        torch.testing.assert_close(model(clip, burn_in=2), model(clip)[:, 2:], rtol=0, atol=0)
    model.train()
    model(clip, burn_in=2).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert not missing, f"parameters without gradient after burn-in: {missing}"
    with pytest.raises(ValueError, match="burn_in must be in"):
        model(clip, burn_in=clip.shape[1])


CHECKPOINTABLE = [n for n in list_models() if _tiny(n).supports_gradient_checkpointing and count_parameters(n) > 0]


def test_the_recurrent_families_support_gradient_checkpointing() -> None:
    assert {"rlsp-7-48", "rlsp-dis-7-48", "rlsp-bi-dis-7-48", "rlsp-rgb", "rfs3", "default", "hirn", "iart"} <= set(
        CHECKPOINTABLE)
    assert "mrvsr" not in CHECKPOINTABLE  # SRNL normalises once per sequence, inside its first step


@pytest.mark.parametrize("name", CHECKPOINTABLE)
def test_gradient_checkpointing_gives_the_same_loss_and_gradients(name: str) -> None:
    """Each frame's step recomputed in the backward pass (memory: benchmarks/train_memory.py) changes nothing."""
    model = _tiny(name).train()
    clip = _clip(name)

    def loss_and_grads() -> tuple[torch.Tensor, list[torch.Tensor]]:
        model.zero_grad()
        loss = model(clip).square().mean()
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in model.parameters()]

    def saved_bytes() -> int:
        """What autograd keeps for the backward pass during a forward pass (checkpointing is for this)."""
        total = 0

        def pack(t: torch.Tensor) -> torch.Tensor:
            nonlocal total
            total += t.numel() * t.element_size()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(clip)
        return total

    loss, grads = loss_and_grads()
    kept = saved_bytes()
    with torch.no_grad():
        plain = model(clip)
    model.gradient_checkpointing = True
    assert saved_bytes() < kept / 2
    loss_ckpt, grads_ckpt = loss_and_grads()
    assert torch.equal(loss, loss_ckpt)
    for g, h in zip(grads, grads_ckpt, strict=True):
        torch.testing.assert_close(h, g, rtol=1e-5, atol=1e-8)
    with torch.no_grad():  # evaluation (and the EMA copy) runs as before
        assert torch.equal(model(clip), plain)


def test_weights_file_hparams_are_used_and_conflicts_rejected(tmp_path: Path) -> None:
    """Arguments a preset leaves open come from the file; pinned ones must agree with it."""
    from vsrkit.errors import WeightsError

    trained = create_model("rlsp-7-48", pretrained=False, value_range=1.0)
    path = save_weights(trained, tmp_path / "vr1.safetensors")
    loaded = create_model("rlsp-7-48", weights=path)
    assert loaded.hparams["value_range"] == 1.0
    clip = torch.rand(1, 3, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(loaded(clip), trained.eval()(clip), rtol=0, atol=0)
    with pytest.raises(WeightsError, match="filters=48"):
        create_model("rlsp-7-64", weights=path)


def test_parse_settings_reads_command_line_constructor_settings() -> None:
    from vsrkit.errors import VsrkitError
    from vsrkit.models._registry import parse_settings

    assert parse_settings('backward_view="identity",horizon_tau=5,tied=false') == {
        "backward_view": "identity", "horizon_tau": 5, "tied": False}
    with pytest.raises(VsrkitError, match="expected KEY=JSON"):
        parse_settings("horizon_tau")
    with pytest.raises(VsrkitError, match="not JSON"):
        parse_settings("backward_view=identity")
