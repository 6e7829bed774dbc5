"""``vsrkit convert --from basicsr``: official HiRN / IART / SPyNet layouts, strict reports, safety."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from vsrkit import create_model
from vsrkit.cli.main import app
from vsrkit.errors import WeightsError
from vsrkit.layers.spynet import SPyNet
from vsrkit.weights.convert import convert
from vsrkit.weights.convert_basicsr import spynet_state_dict
from vsrkit.weights.io import load_model

# Key names and shapes read from the official hirn_arch.py / iart_arch.py (+ BasicSR SpyNet,
# psrt_sliding_arch.SwinIRFM, implicit_alignment.ImplicitWarpModule) for the published configs.
OFFICIAL_HIRN = {
    "spynet.basic_module.5.basic_module.8.bias": (2,),
    "feat_extract.main.2.4.conv2.weight": (64, 64, 3, 3),
    "deform_align.group_1.weight": (64, 128, 3, 3),
    "deform_align.group_1.conv_offset.0.weight": (64, 196, 3, 3),
    "deform_align.group_1.conv_offset.6.weight": (432, 64, 3, 3),
    "twa.forward_1.0.tAtt_2.weight": (64, 64, 3, 3),
    "twa.forward_1.0.sAtt_1.weight": (64, 192, 3, 3),
    "twa.group_1.0.sAtt_5.bias": (64,),
    "backbone.backward_1.main.0.weight": (64, 384, 3, 3),
    "backbone.forward_1.main.0.weight": (64, 448, 3, 3),
    "backbone.group_1.main.2.6.conv1.weight": (64, 64, 3, 3),
    "reconstruction.main.0.weight": (64, 256, 3, 3),
    "upconv1.weight": (256, 64, 3, 3),
    "upconv2.weight": (256, 64, 3, 3),
    "conv_hr.weight": (64, 64, 3, 3),
    "conv_last.bias": (3,),
}
OFFICIAL_IART = {
    "spynet.basic_module.0.basic_module.0.weight": (32, 8, 7, 7),
    "conv_first.weight": (120, 3, 3, 3),
    "implicit_warp.q.weight": (120, 120),
    "implicit_warp.v.bias": (120,),
    "swin_backbone.backward_1.conv_first.weight": (120, 3, 3, 3),
    "swin_backbone.backward_1.conv_first_feat.weight": (120, 64, 3, 3),
    "swin_backbone.backward_1.patch_embed.norm.weight": (120,),
    "swin_backbone.forward_2.layers.2.residual_group.blocks.5.attn.relative_position_bias_table": (1125, 6),
    "swin_backbone.forward_2.layers.2.residual_group.blocks.5.attn.qkv.weight": (360, 120),
    "swin_backbone.forward_2.layers.2.residual_group.blocks.5.mlp.fc1.weight": (240, 120),
    "swin_backbone.forward_2.layers.2.conv.weight": (120, 120, 3, 3),
    "swin_backbone.forward_2.norm.bias": (120,),
    "swin_backbone.forward_2.conv_after_body.weight": (120, 120, 3, 3),
    "swin_backbone.forward_2.conv_before_upsample.weight": (64, 120, 3, 3),
    "conv_before_upsample.weight": (64, 120, 3, 3),
    "upconv1.weight": (256, 64, 3, 3),
    "conv_last.weight": (3, 64, 3, 3),
}


@pytest.mark.parametrize("name,official", [("hirn", OFFICIAL_HIRN), ("iart", OFFICIAL_IART)])
def test_full_presets_use_the_official_key_names_and_shapes(name: str, official: dict) -> None:
    with torch.device("meta"):
        shapes = {k: tuple(v.shape) for k, v in create_model(name, pretrained=False).state_dict().items()}
    for key, shape in official.items():
        assert shapes.get(key) == shape, key


def _official_hirn() -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    model = create_model("hirn", pretrained=False, mid_channels=8, num_blocks=1, extract_blocks=1,
                         recon_blocks=1, deform_groups=4, hr_channels=8).eval()
    state = {f"module.{k}": v.clone() for k, v in model.state_dict().items()}
    # BasicSR's SpyNet registers its normalisation as (persistent) buffers.
    state["module.spynet.mean"] = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    state["module.spynet.std"] = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return model, state


def _official_iart() -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    # drop_path_rate is training-only and not in a checkpoint: keep the official 0.1 (eval ignores it).
    model = create_model("iart", pretrained=False, embed_dim=12, num_layers=2, depth=2, num_heads=2).eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["spynet.mean"] = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    state["spynet.std"] = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    for name, buf in model.named_buffers():
        if name.endswith("relative_position_index"):
            state[name] = buf.clone()
    state["implicit_warp.position_bias"] = model.implicit_warp.window_encoding.clone().unsqueeze(0)
    state["implicit_warp.window_idx_offset"] = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    return model, state


@pytest.mark.parametrize("build", [_official_hirn, _official_iart])
def test_convert_roundtrip_gives_identical_outputs(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, state = build()
    src = tmp_path / "official.pth"
    torch.save({"params": state}, src)
    dst = tmp_path / "converted.safetensors"
    result = convert("basicsr", src, dst)
    assert result.metadata["param_key"] == "params"
    clone = load_model(dst).eval()
    assert clone.hparams == {**model.hparams}
    x = torch.rand(1, 3, 3, 12, 12)
    with torch.no_grad():
        torch.testing.assert_close(clone(x), model(x), rtol=0, atol=0)


def test_params_ema_is_selectable(tmp_path: Path) -> None:
    model, state = _official_hirn()
    ema = {k: v + 1 if v.is_floating_point() and not k.endswith(("mean", "std")) else v for k, v in state.items()}
    src = tmp_path / "official.pth"
    torch.save({"params": state, "params_ema": ema}, src)
    result = convert("basicsr", src, tmp_path / "ema.safetensors", arch="hirn:params_ema")
    assert result.metadata["param_key"] == "params_ema"
    torch.testing.assert_close(result.state_dict["conv_last.bias"], model.conv_last.bias + 1)


def test_strict_report_lists_missing_unexpected_and_shape_mismatches(tmp_path: Path) -> None:
    _, state = _official_hirn()
    del state["module.twa.group_1.0.sAtt_4.bias"]
    state["module.twa.group_1.0.extra.weight"] = torch.zeros(3)
    state["module.twa.backward_1.0.sAtt_2.weight"] = torch.zeros(8, 8, 5, 5)
    src = tmp_path / "broken.pth"
    torch.save({"params": state}, src)
    with pytest.raises(WeightsError) as info:
        convert("basicsr", src, tmp_path / "out.safetensors")
    message = str(info.value)
    assert "missing 1 (twa.group_1.0.sAtt_4.bias)" in message
    assert "unexpected 1 (twa.group_1.0.extra.weight)" in message
    assert "shape mismatch 1 (twa.backward_1.0.sAtt_2.weight: file (8, 8, 5, 5) vs model (8, 8, 3, 3))" in message
    assert not (tmp_path / "out.safetensors").exists()


class _Payload:
    pass


def test_pickled_objects_are_refused_and_cli_exits_2(tmp_path: Path) -> None:
    src = tmp_path / "evil.pth"
    torch.save({"params": {"x": _Payload()}}, src)
    dst = tmp_path / "out.safetensors"
    result = CliRunner().invoke(app, ["convert", str(src), str(dst), "--from", "basicsr"])
    assert result.exit_code != 0
    with pytest.raises(WeightsError, match="evil.pth: not a readable torch checkpoint"):
        convert("basicsr", src, dst)
    assert not dst.exists()


def test_wrong_arch_hint_is_reported(tmp_path: Path) -> None:
    _, state = _official_hirn()
    src = tmp_path / "hirn.pth"
    torch.save({"params": state}, src)
    with pytest.raises(WeightsError, match="holds hirn weights, but --arch iart"):
        convert("basicsr", src, tmp_path / "o.safetensors", arch="iart")


@pytest.mark.parametrize("layout", ["basicsr", "mmedit"])
def test_spynet_checkpoints_in_both_layouts(layout: str, tmp_path: Path) -> None:
    net = SPyNet().eval()
    own = net.state_dict()
    if layout == "basicsr":
        state = {"params": {**own, "mean": net.mean.clone(), "std": net.std.clone()}}
    else:
        # mmedit: ConvModule wrappers numbered 0..4 and a "state_dict" wrapper.
        renamed = {}
        for key, value in own.items():
            level, _, layer, kind = key.split(".")[1], None, int(key.split(".")[3]), key.split(".")[4]
            renamed[f"basic_module.{level}.basic_module.{layer // 2}.conv.{kind}"] = value
        state = {"state_dict": renamed}
    src = tmp_path / "spynet.pth"
    torch.save(state, src)
    clone = SPyNet().eval()
    clone.load_state_dict(spynet_state_dict(src))
    a, b = torch.rand(1, 3, 20, 24), torch.rand(1, 3, 20, 24)
    with torch.no_grad():
        torch.testing.assert_close(clone(a, b), net(a, b), rtol=0, atol=0)
