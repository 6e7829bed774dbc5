"""ONNX export of a streaming model's step, and of the bidirectional RLSP's two steps: the exported graphs, looped as
their metadata says, give the model's outputs at any frame size (the bidirectional one: `vsrkit upscale`'s chunked
outputs, for any chunking); what cannot be exported is refused in one line with nothing written."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import onnx
import pytest
import torch

from vsrkit import create_model
from vsrkit.engine import onnx_export
from vsrkit.engine.onnx_export import METADATA_KEY, TOLERANCE, export_onnx, run_onnx
from vsrkit.engine.upscaler import Upscaler
from vsrkit.errors import VsrkitError
from vsrkit.layers.views import VIEWS


def _clip(frames: int, h: int, w: int) -> torch.Tensor:
    """Smooth content panning a pixel a frame, so that flow, warp and state all take part."""
    g = torch.Generator().manual_seed(1)
    coarse = torch.rand(1, 3, h // 4 + 2, (w + frames) // 4 + 2, generator=g)
    big = torch.nn.functional.interpolate(coarse, size=(h, w + frames), mode="bicubic", align_corners=False)[0]
    return torch.stack([big[:, :, i : i + w] for i in range(frames)]).clamp(0, 1)


@pytest.mark.parametrize(("name", "kwargs"), [
    ("rlsp-7-48", {"filters": 8}),
    ("rlsp-dis-7-48", {"filters": 8}),  # DIS flows in, grid_sample in the graph
    ("rlsp-rgb", {"filters": 8}),
    ("mrvsr", {"filters": 8}),  # spectral-normalised recurrent layers (SRNL), one state tensor
    ("rfs3", {"filters": 8}),
])
def test_exported_step_looped_on_onnxruntime_gives_the_models_outputs(tmp_path: Path, name: str, kwargs) -> None:
    torch.manual_seed(0)
    model = create_model(name, pretrained=False, **kwargs).eval()
    result = export_onnx(model, tmp_path / "step.onnx", name=name)
    assert result.max_difference <= TOLERANCE and result.path.is_file()
    assert model.training is False and all(p.dtype == torch.float32 for p in model.parameters())
    # Another size than the export's check (odd, not a multiple of anything): height and width are dynamic.
    clip = _clip(5, 21, 35)
    got = run_onnx(result.path, clip)
    with torch.no_grad():
        want = model(clip[None])[0]
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, atol=TOLERANCE, rtol=0)
    info = json.loads({p.key: p.value for p in onnx.load(str(result.path)).metadata_props}[METADATA_KEY])
    assert (info["model"], info["scale"], info["radius"], info["output"]) == (name, 4, 1, model.output)
    assert (info["flows"] is not None) == (name == "rlsp-dis-7-48")
    assert [s["initial"] for s in info["state"]] == ["zeros"] * len(result.outputs[1:])


def test_the_loop_needs_the_state_it_carries(tmp_path: Path) -> None:
    """The tolerance tells a right loop from a wrong one: each frame run as a clip of its own (no state, its own
    frame for neighbours) is far from the model, trained weights being what makes state matter."""
    model = create_model("default-fast").eval()
    path = export_onnx(model, tmp_path / "step.onnx", name="default-fast").path
    clip = _clip(4, 16, 16)
    with torch.no_grad():
        want = model(clip[None])[0]
    alone = torch.cat([run_onnx(path, clip[t : t + 1]) for t in range(4)])
    assert (alone[1:] - want[1:]).abs().max() > 100 * TOLERANCE


def test_a_graph_that_disagrees_with_the_model_is_not_written(tmp_path: Path, monkeypatch) -> None:
    model = create_model("rlsp-7-48", pretrained=False, filters=8).eval()
    real = onnx_export.run_onnx
    monkeypatch.setattr(onnx_export, "run_onnx", lambda path, lr: real(path, lr) + 1e-3)
    with pytest.raises(VsrkitError, match=r"^x: the exported graph's outputs differ from the model's by 1\.00e-03"):
        export_onnx(model, tmp_path / "step.onnx", name="x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "message"), [
    ("hirn-tiny", (r"hirn-tiny: a bidirectional model runs whole clips or chunks through attention or unfolded "
                   r"optimisation; only recurrent and sliding-window models and the bidirectional RLSP export")),
    ("rlsp-bi-dis-7-48", (r"rlsp-bi-dis-7-48: a bidirectional RLSP with a fusion net does not export to ONNX; two "
                          r"cells mixed by frames seen do")),
    ("bicubic", r"bicubic: the ONNX exporter failed: Exporting the operator 'aten::to_sparse_csr'"),
])
def test_what_cannot_be_exported_is_refused_in_one_line(tmp_path: Path, capfd, name: str, message: str) -> None:
    with pytest.raises(VsrkitError, match=message) as error:
        export_onnx(create_model(name, pretrained=False), tmp_path / "step.onnx", name=name)
    assert "\n" not in str(error.value)
    assert list(tmp_path.iterdir()) == []
    # The exporter's graph dump (its C++ log) does not reach the terminal.
    assert "Torch IR graph" not in "".join(capfd.readouterr())


def test_cli_exports_and_refuses_with_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    from vsrkit.cli.main import main

    def run(*args: str) -> int:
        monkeypatch.setattr(sys, "argv", ["vsrkit", "export", *args])
        with pytest.raises(SystemExit) as done:
            main()
        return done.value.code

    assert run("default-fast", str(tmp_path / "fast.onnx")) in (0, None)
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'fast.onnx'}: default-fast step, inputs window, state0, state1" in out
    assert (tmp_path / "fast.onnx").is_file()
    assert run("default", str(tmp_path / "default.onnx")) in (0, None)
    out = capsys.readouterr().out
    assert (f"wrote {tmp_path / 'default.onnx'}: default forward step (backward step: "
            f"{tmp_path / 'default.backward.onnx'}), inputs window, state0, state1, flow_prev, flow_next, "
            "backward_output, forward_weight; outputs output, new_state0, new_state1; checked on 8 frames") in out
    for args, message in [
        (("hirn-tiny", str(tmp_path / "d.onnx")), "error: hirn-tiny: a bidirectional model"),
        (("default-fast", str(tmp_path / "d.txt")), f"error: {tmp_path / 'd.txt'}: the output must be a .onnx file"),
        (("default-fast", str(tmp_path / "d.onnx"), "--opset", "13"), "opset 16 or later"),
    ]:
        assert run(*args) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.backward.onnx", "default.onnx", "fast.onnx"]


def _chunked(model: torch.nn.Module, clip: torch.Tensor, chunk: int, right_context: int) -> torch.Tensor:
    """What `vsrkit upscale` computes (the model's raw Y output) in chunks of ``chunk`` frames."""
    upscaler = Upscaler(model, precision="fp32", chunk=chunk, warmup=right_context, scene_cuts=False)
    with torch.no_grad():
        return torch.cat([out for _, out, _ in upscaler._outputs(clip.unbind(0))])


@pytest.mark.parametrize("kwargs", [
    {"backward_view": "rot90-ccw", "horizon_tau": 5.0},  # as the shipped `default`: the state turns inside the graph
    {"backward_view": "transpose", "tied": True},  # one cell both ways
    {"backward_view": "flip-lr", "align": "none"},  # no flows
])
def test_bidirectional_rlsp_exports_as_two_steps_that_give_the_chunked_run(tmp_path: Path, kwargs) -> None:
    torch.manual_seed(0)
    model = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, **kwargs).eval()
    result = export_onnx(model, tmp_path / "bi.onnx", name="bi")
    assert result.max_difference <= TOLERANCE
    assert result.companions == (tmp_path / "bi.backward.onnx",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi.backward.onnx", "bi.onnx"]
    # Written as any file the user makes (a private temporary file renamed into place would be 0600).
    umask = os.umask(0)
    os.umask(umask)
    assert {p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {0o666 & ~umask}
    info = json.loads({p.key: p.value for p in onnx.load(str(result.path)).metadata_props}[METADATA_KEY])
    assert info["kind"] == "bidirectional" and info["graphs"] == {"forward": "bi.onnx", "backward": "bi.backward.onnx"}
    # Another size (odd, not square: a turned view swaps the sides) and chunkings the check did not use, with a last
    # chunk shorter than the others; one chunk holding the whole clip is the model's whole-clip run.
    clip = _clip(11, 21, 35)
    for chunk, right in [(4, 3), (5, 0), (11, 4)]:
        got = run_onnx(result.path, clip, chunk=chunk, right_context=right)
        torch.testing.assert_close(got, _chunked(model, clip, chunk, right), atol=TOLERANCE, rtol=0)
    with torch.no_grad():
        whole = model(clip[None])[0]
    torch.testing.assert_close(run_onnx(result.path, clip, chunk=11), whole, atol=TOLERANCE, rtol=0)


def test_shipped_default_exports_and_runs_as_vsrkit_upscale_does(tmp_path: Path) -> None:
    """The trained `default` (its backward cell on the clip turned by 90 degrees, weighted by frames seen), looped on
    onnxruntime with the metadata's chunking, which is `vsrkit upscale`'s: over two chunk borders."""
    model = create_model("default").eval()
    path = export_onnx(model, tmp_path / "default.onnx", name="default").path
    info = json.loads({p.key: p.value for p in onnx.load(str(path)).metadata_props}[METADATA_KEY])
    chunks = info["chunks"]
    assert (chunks["chunk"], chunks["right_context"]) == (16, model.chunk_warmup)
    clip = _clip(36, 24, 20)
    got = run_onnx(path, clip)
    want = _chunked(model, clip, chunks["chunk"], chunks["right_context"])
    torch.testing.assert_close(got, want, atol=TOLERANCE, rtol=0)
    # The tolerance tells a right loop from a wrong one: the forward cell alone (no backward run mixed in), or the
    # two graphs in chunks without right context, are far off.
    causal = export_onnx(model.direction_cell("forward"), tmp_path / "forward.onnx", name="forward").path
    assert (run_onnx(causal, clip) - want).abs().max() > 100 * TOLERANCE
    assert (run_onnx(path, clip, right_context=0) - want).abs().max() > 20 * TOLERANCE


def test_a_bidirectional_graph_that_disagrees_is_not_written(tmp_path: Path, monkeypatch) -> None:
    """The check runs both graphs: a backward step that ignores the view the cell was trained in fails it."""
    model = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0,
                         backward_view="rot90-ccw").eval()
    forward = onnx_export._BackwardStep.forward

    def unturned(self, *args):
        self.view = VIEWS["identity"]
        return forward(self, *args)

    monkeypatch.setattr(onnx_export._BackwardStep, "forward", unturned)
    with pytest.raises(VsrkitError, match=r"^bi: the exported graph's outputs differ from the model's by "):
        export_onnx(model, tmp_path / "bi.onnx", name="bi")
    assert list(tmp_path.iterdir()) == []
