"""RLSP with DIS alignment (``align="dis"``): neighbours, state and previous output land on frame t."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vsrkit import create_model
from vsrkit.errors import WeightsError
from vsrkit.layers.shuffle import depth_to_space_tf, space_to_depth_tf
from vsrkit.layers.warp import flow_warp
from vsrkit.models.rlsp import RLSP, BidirectionalRLSP
from vsrkit.weights.io import save_weights


def _texture(h: int, w: int, seed: int = 0) -> torch.Tensor:
    """Smooth random texture (RGB, [0, 1]) that optical flow can lock onto."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.random((1, 3, h // 4 + 2, w // 4 + 2))).float()
    return torch.nn.functional.interpolate(coarse, size=(h + 8, w + 8), mode="bicubic",
                                           align_corners=False).clamp(0, 1)


def _shifted_clip(dx: int, t_len: int = 3, h: int = 40, w: int = 48) -> torch.Tensor:
    """Frame k shows the texture moved ``k * dx`` pixels to the right."""
    big = _texture(h, w)
    frames = [big[..., 4:4 + h, 4 - k * dx:4 - k * dx + w] for k in range(t_len)]
    return torch.stack(frames, dim=1)


def test_alignment_brings_neighbours_state_and_output_onto_the_centre() -> None:
    torch.manual_seed(0)
    model = RLSP(filters=8, value_range=1.0, align="dis").eval()
    clip = _shifted_clip(dx=2)
    prev, centre, _ = clip.unbind(1)
    hidden = prev[:, :1].repeat(1, 8, 1, 1)  # a state that shows frame t-1's content
    previous_hr = torch.nn.functional.interpolate(prev[:, :1], scale_factor=4, mode="nearest")
    window, hidden_aligned, feedback_aligned = model._align(
        clip, hidden, space_to_depth_tf(previous_hr, 4), *model._flows(clip)
    )
    inner = (..., slice(4, -4), slice(6, -6))
    before = (prev - centre)[inner].abs().mean()
    for aligned in (window[:, 0], window[:, 2]):
        assert (aligned - centre)[inner].abs().mean() < 0.1 * before
    assert (hidden_aligned[:, 0] - centre[:, 0])[inner].abs().mean() < 0.1 * before
    # The previous HR output is warped with the flow scaled by 4: back at LR it matches frame t.
    hr = depth_to_space_tf(feedback_aligned, 4)
    lr_again = torch.nn.functional.avg_pool2d(hr, 4)
    assert (lr_again[:, 0] - centre[:, 0])[inner].abs().mean() < 0.15 * before


def test_static_clip_gives_the_plain_rlsp_output() -> None:
    """No motion, zero flow: the aligned model computes what plain RLSP with the same weights does."""
    torch.manual_seed(1)
    plain = RLSP(filters=8, value_range=1.0).eval()
    aligned = RLSP(filters=8, value_range=1.0, align="dis").eval()
    aligned.load_state_dict(plain.state_dict())
    clip = _texture(24, 32)[..., 4:28, 4:36].unsqueeze(1).repeat(1, 4, 1, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(aligned(clip), plain(clip), rtol=0, atol=1e-5)


def test_plain_rlsp_weights_start_the_aligned_model(tmp_path) -> None:
    from vsrkit.weights.io import save_weights

    plain = create_model("rlsp-7-48", pretrained=False, value_range=1.0)
    path = save_weights(plain, tmp_path / "plain.safetensors")
    # Loading plain weights into the aligned preset must be asked for explicitly (align="dis"),
    # as fine-tuning configs do: by default, a file trained without alignment is a wrong checkpoint.
    with pytest.raises(WeightsError, match="align='none'"):
        create_model("rlsp-dis-7-48", weights=path)
    model = create_model("rlsp-dis-7-48", weights=path, align="dis")
    assert model.flow is not None and model.value_range == 1.0
    with pytest.raises(ValueError, match="align"):
        RLSP(align="raft")  # type: ignore[arg-type]


@pytest.mark.parametrize(("fusion_layers", "fusion"), [(0, "add"), (3, "add"), (3, "blend")])
def test_bidirectional_starts_as_the_mean_of_both_directions(fusion_layers: int, fusion: str) -> None:
    """Both cells copied from one RLSP, fusion zeroed or absent: exactly the RLSP run forward and run
    on the time-reversed clip, averaged; the shared flows are the ones each direction computes itself."""
    torch.manual_seed(2)
    uni = RLSP(filters=8, value_range=1.0, align="dis").eval()
    bi = BidirectionalRLSP(filters=8, value_range=1.0, align="dis", fusion_layers=fusion_layers,
                           fusion=fusion).eval()  # type: ignore[arg-type]
    bi.start_from_unidirectional(uni)
    if fusion_layers == 0:
        assert sum(p.numel() for p in bi.parameters()) == 2 * sum(p.numel() for p in uni.parameters())
    clip = _shifted_clip(dx=1, t_len=5, h=24, w=32)
    with torch.no_grad():
        expected = (uni(clip) + uni(clip.flip(1)).flip(1)) / 2
        torch.testing.assert_close(bi(clip), expected, rtol=0, atol=1e-6)


def test_blend_fusion_stays_between_the_two_directions() -> None:
    """``fusion="blend"`` with a trained-looking (random) fusion net: every output pixel lies between
    the forward and the backward estimate, and training reaches the fusion net."""
    torch.manual_seed(5)
    uni = RLSP(filters=8, value_range=1.0, align="dis").eval()
    bi = BidirectionalRLSP(filters=8, value_range=1.0, align="dis", fusion_layers=2, tied=True, fusion="blend")
    bi.start_from_unidirectional(uni)
    assert bi.fusion_out is not None
    torch.nn.init.normal_(bi.fusion_out.weight, std=0.5)
    clip = _shifted_clip(dx=1, t_len=4, h=24, w=32)
    with torch.no_grad():
        forward, backward = uni(clip), uni(clip.flip(1)).flip(1)
        out = bi.eval()(clip)
    low, high = torch.minimum(forward, backward), torch.maximum(forward, backward)
    assert bool(((out >= low - 1e-6) & (out <= high + 1e-6)).all())
    assert not torch.allclose(out, (forward + backward) / 2)
    bi.train()(clip).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in bi.fusion.parameters())
    assert bi.fusion_out.weight.grad is not None and bi.fusion_out.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="fusion"):
        BidirectionalRLSP(fusion="max")  # type: ignore[arg-type]


def test_tied_bidirectional_is_one_cell_run_both_ways(tmp_path) -> None:
    """``tied=True``: half the parameters, the same output as two copies of the cell, and training
    reaches the one cell from both directions; saving and loading keeps it tied."""
    torch.manual_seed(4)
    uni = RLSP(filters=8, value_range=1.0, align="dis").eval()
    untied = BidirectionalRLSP(filters=8, value_range=1.0, align="dis", fusion_layers=0).eval()
    tied = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=True).eval()
    untied.start_from_unidirectional(uni)
    tied.start_from_unidirectional(uni)
    assert not hasattr(tied, "backward_cell")
    assert sum(p.numel() for p in tied.parameters()) == sum(p.numel() for p in uni.parameters())
    clip = _shifted_clip(dx=1, t_len=4, h=24, w=32)
    with torch.no_grad():
        torch.testing.assert_close(tied(clip), untied(clip), rtol=0, atol=1e-6)
    # The backward direction alone reaches the cell: frame 0's output depends on the cell through
    # both runs, and the gradient of the tied cell is the sum of both cells' gradients.
    for model in (tied, untied):
        model.zero_grad()
        model(clip)[:, 0].sum().backward()
    grads = untied.forward_cell.trunk[0].weight.grad + untied.backward_cell.trunk[0].weight.grad
    torch.testing.assert_close(tied.forward_cell.trunk[0].weight.grad, grads, rtol=1e-4, atol=1e-6)
    save_weights(tied, tmp_path / "tied.safetensors")
    loaded = create_model("rlsp-bi-dis-7-48", weights=tmp_path / "tied.safetensors", filters=8).eval()
    assert loaded.tied
    with torch.no_grad():
        torch.testing.assert_close(loaded(clip), tied(clip), rtol=0, atol=0)


def test_bidirectional_output_depends_on_future_frames() -> None:
    """Frame 2 lies outside frame 0's window: only the backward cell's state can carry it there.
    Float64, since a random tiny network damps what crosses a step to ~1e-6."""
    torch.manual_seed(3)
    bi = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8).double().eval()
    causal = create_model("rlsp-dis-7-48", pretrained=False, filters=8, value_range=1.0).double().eval()
    clip = _shifted_clip(dx=1, t_len=3, h=24, w=32).double()
    changed = clip.clone()
    changed[:, 2] = changed[:, 2].flip(-1)
    with torch.no_grad():
        assert (bi(clip)[:, 0] - bi(changed)[:, 0]).abs().max() > 1e-8
        assert torch.equal(causal(clip)[:, 0], causal(changed)[:, 0])
    with pytest.raises(ValueError, match="align"):
        BidirectionalRLSP(align="raft")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fusion_layers"):
        BidirectionalRLSP(fusion_layers=-1)


@pytest.mark.parametrize(("num_layers", "filters"), [(7, 12), (10, 8), (10, 12)])
def test_grown_rlsp_computes_the_same_function(num_layers: int, filters: int) -> None:
    """Net2Net growth (wider: copied channels, split reads; deeper: identity convs after a ReLU) keeps
    the output, state included, over several steps; the noise then makes the copies differ."""
    torch.manual_seed(4)
    small = RLSP(num_layers=7, filters=8, value_range=1.0, align="dis").double().eval()
    for p in small.parameters():  # trained-like weights: random biases too
        p.data.normal_(0, 0.1)
    clip = _shifted_clip(dx=1, t_len=4, h=24, w=32).double()
    exact = small.grown(num_layers=num_layers, filters=filters, noise=0.0).eval()
    assert (len(exact.trunk) + 1, exact.filters) == (num_layers, filters)
    noisy = small.grown(num_layers=num_layers, filters=filters, noise=0.01,
                        generator=torch.Generator().manual_seed(0)).eval()
    with torch.no_grad():
        reference = small(clip)
        torch.testing.assert_close(exact(clip), reference, rtol=0, atol=1e-12)
        if filters > 8:
            difference = (noisy(clip) - reference).abs().max()
            assert 0 < difference < 0.05
    with pytest.raises(ValueError, match="can only grow"):
        small.grown(num_layers=5, filters=8)


def test_dis_finest_scale_reaches_the_flow_and_survives_growth_single_cell_and_saving(tmp_path) -> None:
    torch.manual_seed(5)
    fine = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=True,
                        dis_finest_scale=0).eval()
    coarse = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=True).eval()
    coarse.load_state_dict(fine.state_dict())
    assert fine.flow.finest_scale == 0 and coarse.flow.finest_scale == 1
    cell = fine.single_cell()
    assert cell.flow.finest_scale == 0
    assert cell.grown(num_layers=8, filters=8, noise=0.0).flow.finest_scale == 0
    # A sub-pixel pan: the two flows differ, and so do the outputs. (On frames much smaller than
    # this, DIS has a single pyramid level and the finest scale changes nothing.)
    frame = _texture(48, 64)[..., 4:52, 4:68]
    pan = torch.tensor([0.7, 0.3]).view(1, 2, 1, 1).expand(1, 2, 48, 64)
    panned = torch.stack([flow_warp(frame, k * pan) for k in range(3)], dim=1)
    with torch.no_grad():
        assert not torch.equal(fine(panned), coarse(panned))
    save_weights(fine, tmp_path / "fine.safetensors")
    loaded = create_model("rlsp-bi-dis-7-48", weights=tmp_path / "fine.safetensors", filters=8)
    assert loaded.flow.finest_scale == 0


def test_grow_script_keeps_the_source_dis_finest_scale(tmp_path) -> None:
    """scripts/grow_rlsp.py builds its output from the registry preset: the source's finest scale (0, not the
    preset's 1) must come along, or the grown file silently runs on coarser flow (session 18 found
    `runs/default_cell.safetensors` had lost it)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from vsrkit.weights.io import read_metadata

    source = create_model("rlsp-dis-7-48", pretrained=False, dis_finest_scale=0)
    save_weights(source, tmp_path / "cell.safetensors")
    script = Path(__file__).resolve().parents[2] / "scripts" / "grow_rlsp.py"
    subprocess.run([sys.executable, str(script), "--from", "rlsp-dis-7-48", "--weights", str(tmp_path / "cell.safetensors"),
                    "--preset", "rlsp-dis-10-64", "--noise", "0", "--out", str(tmp_path / "grown.safetensors")],
                   check=True, capture_output=True)
    hparams = json.loads(read_metadata(tmp_path / "grown.safetensors")["hparams"])
    assert (hparams["num_layers"], hparams["filters"], hparams["dis_finest_scale"]) == (10, 64, 0)


@pytest.mark.parametrize("view", ["transpose", "rot90-ccw"])
def test_backward_view_runs_the_backward_cell_on_the_turned_clip(view: str, tmp_path) -> None:
    """Unaligned: exactly the RLSP forward, plus the RLSP on the time-reversed clip seen in the view,
    mapped back; averaged. Aligned: the backward cell gets the shared flows turned with the view, not
    flows re-estimated on it (tests/layers/test_views.py shows the turned flow is the same motion)."""
    from vsrkit.layers.views import VIEWS, from_view, to_view

    torch.manual_seed(6)
    uni = RLSP(filters=8, value_range=1.0).eval()
    bi = BidirectionalRLSP(filters=8, value_range=1.0, align="none", fusion_layers=0, tied=True,
                           backward_view=view).eval()
    bi.start_from_unidirectional(uni)
    clip = _shifted_clip(dx=1, t_len=4, h=24, w=32)
    with torch.no_grad():
        backward = from_view(uni(to_view(clip.flip(1), VIEWS[view])).flip(1), VIEWS[view])
        torch.testing.assert_close(bi(clip), (uni(clip) + backward) / 2, rtol=0, atol=1e-6)
        # The two directions apart (for analysis): each is exactly its own run.
        each = bi.run_directions(clip)
        torch.testing.assert_close(each[0], uni(clip), rtol=0, atol=0)
        torch.testing.assert_close(each[1], backward, rtol=0, atol=1e-6)
    aligned = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=True,
                           backward_view=view).eval()
    plain_view = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=True).eval()
    plain_view.load_state_dict(aligned.state_dict())
    panned = _shifted_clip(dx=1, t_len=4, h=24, w=32)
    with torch.no_grad():
        assert not torch.equal(aligned(panned), plain_view(panned))
    save_weights(aligned, tmp_path / "view.safetensors")
    loaded = create_model("rlsp-bi-dis-7-48", weights=tmp_path / "view.safetensors", filters=8).eval()
    assert loaded.backward_view == VIEWS[view]
    with torch.no_grad():
        torch.testing.assert_close(loaded(panned), aligned(panned), rtol=0, atol=0)
    with pytest.raises(ValueError, match="backward_view"):
        BidirectionalRLSP(backward_view="rot45")


def test_horizon_tau_weighs_each_direction_by_the_frames_it_has_seen(tmp_path) -> None:
    """Frame t of T: the forward run has seen t + 1 frames, the backward T - t; each counts 1 - exp(-k / tau)."""
    torch.manual_seed(8)
    model = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=True,
                         backward_view="rot90-ccw", horizon_tau=2.0).eval()
    clip = _shifted_clip(dx=1, t_len=5, h=24, w=32)
    t_len = clip.shape[1]
    trust = [1 - np.exp(-k / 2.0) for k in range(1, t_len + 1)]
    w = torch.tensor([trust[t] / (trust[t] + trust[t_len - 1 - t]) for t in range(t_len)],
                     dtype=torch.float32).view(1, t_len, 1, 1, 1)
    with torch.no_grad():
        forward, backward = model.run_directions(clip)
        torch.testing.assert_close(model(clip), w * forward + (1 - w) * backward, rtol=0, atol=1e-6)
        assert w[0, 0].item() < 0.5 < w[0, -1].item()
        # tau 0 is the plain mean; the setting is saved with the weights.
        plain = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=True,
                             backward_view="rot90-ccw")
        plain.load_state_dict(model.state_dict())
        torch.testing.assert_close(plain(clip), (forward + backward) / 2, rtol=0, atol=1e-6)
    save_weights(model, tmp_path / "tau.safetensors")
    assert create_model("rlsp-bi-dis-7-48", weights=tmp_path / "tau.safetensors", filters=8).horizon_tau == 2.0
    with pytest.raises(ValueError, match="horizon_tau"):
        BidirectionalRLSP(horizon_tau=-1.0)


def test_backward_guide_starts_as_the_model_without_it_and_carries_the_future_forward(tmp_path) -> None:
    """``with_backward_guide`` adds the backward run's state and folded output as forward-cell inputs at zero
    weight: the same outputs. Once those weights move, the forward cell's output at frame 0 depends on the
    last frame, which without the guide it cannot see; the guide weights get gradients; the setting is saved."""
    torch.manual_seed(9)
    plain = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=False,
                         backward_view="rot90-ccw", horizon_tau=2.0).eval()
    guided = plain.with_backward_guide().eval()
    assert guided.backward_guide and guided.forward_cell.guide_channels == 8 + 16
    clip = _shifted_clip(dx=1, t_len=5, h=24, w=32)
    changed_end = clip.clone()
    changed_end[:, -1] = 1 - changed_end[:, -1]
    with torch.no_grad():
        torch.testing.assert_close(guided(clip), plain(clip), rtol=0, atol=0)
        assert torch.equal(guided.run_directions(clip)[0][:, 0], guided.run_directions(changed_end)[0][:, 0])
    guided.train()
    guided(clip).square().mean().backward()
    guide_grad = guided.forward_cell.trunk[0].weight.grad[:, -guided.forward_cell.guide_channels:]
    assert guide_grad.abs().sum() > 0
    guided.eval()
    with torch.no_grad():
        guided.forward_cell.trunk[0].weight[:, -guided.forward_cell.guide_channels:].normal_(std=0.1)
        assert not torch.equal(guided.run_directions(clip)[0][:, 0], guided.run_directions(changed_end)[0][:, 0])
    save_weights(guided, tmp_path / "guided.safetensors")
    loaded = create_model("rlsp-bi-dis-7-48", weights=tmp_path / "guided.safetensors", filters=8).eval()
    assert loaded.backward_guide
    with torch.no_grad():
        torch.testing.assert_close(loaded(clip), guided(clip), rtol=0, atol=0)
    # forward_only: the guided forward cell's estimate is the output.
    alone = create_model("rlsp-bi-dis-7-48", weights=tmp_path / "guided.safetensors", filters=8,
                         forward_only=True).eval()
    with torch.no_grad():
        torch.testing.assert_close(alone(clip), guided.run_directions(clip)[0], rtol=0, atol=0)
    with pytest.raises(ValueError, match="forward_only"):
        BidirectionalRLSP(tied=False, fusion_layers=0, forward_only=True)
    with pytest.raises(ValueError, match="two cells"):
        BidirectionalRLSP(tied=True, backward_guide=True)
    with pytest.raises(ValueError, match="already"):
        guided.with_backward_guide()
    with pytest.raises(ValueError, match="guide channels"):
        guided.forward_cell.cell(clip[:, :3], guided.forward_cell.initial_state(clip[:, 0]), None)


def test_init_script_backward_guide_keeps_a_two_cell_model_and_its_outputs(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    torch.manual_seed(10)
    # The script builds from the preset, whose structure a file may not override: full width.
    source = create_model("rlsp-bi-dis-7-48", pretrained=False, fusion_layers=0, tied=False,
                          backward_view="transpose", horizon_tau=3.0).eval()
    save_weights(source, tmp_path / "two_cells.safetensors")
    script = Path(__file__).resolve().parents[2] / "scripts" / "init_bidirectional.py"
    subprocess.run([sys.executable, str(script), "--from", "rlsp-bi-dis-7-48", "--weights",
                    str(tmp_path / "two_cells.safetensors"), "--backward-guide", "--out", str(tmp_path / "g.safetensors")],
                   check=True, capture_output=True)
    guided = create_model("rlsp-bi-dis-7-48", weights=tmp_path / "g.safetensors").eval()
    assert guided.backward_guide and guided.horizon_tau == 3.0 and not guided.tied
    clip = _shifted_clip(dx=1, t_len=4, h=24, w=32)
    with torch.no_grad():
        torch.testing.assert_close(guided(clip), source(clip), rtol=0, atol=0)


def test_init_script_rebuilds_a_two_cell_model_from_its_direction_cells(tmp_path) -> None:
    """`--backward-from` a two-cell model takes its backward cell: the model's own forward cell paired with it is
    the model again (session 17's `default` is rebuilt this way)."""
    import subprocess
    import sys
    from pathlib import Path

    torch.manual_seed(11)
    source = create_model("rlsp-bi-dis-7-48", pretrained=False, fusion_layers=0, tied=False,
                          backward_view="transpose", horizon_tau=3.0).eval()
    save_weights(source, tmp_path / "two_cells.safetensors")
    save_weights(source.direction_cell("forward"), tmp_path / "forward.safetensors")
    assert not torch.equal(source.direction_cell("backward").output_head.weight, source.forward_cell.output_head.weight)
    script = Path(__file__).resolve().parents[2] / "scripts" / "init_bidirectional.py"
    subprocess.run([sys.executable, str(script), "--from", "rlsp-dis-7-48", "--weights", str(tmp_path / "forward.safetensors"),
                    "--backward-from", "rlsp-bi-dis-7-48", "--backward-weights", str(tmp_path / "two_cells.safetensors"),
                    "--preset", "rlsp-bi-dis-7-48", "--fusion-layers", "0", "--backward-view", "transpose",
                    "--horizon-tau", "3", "--out", str(tmp_path / "rebuilt.safetensors")], check=True, capture_output=True)
    rebuilt = create_model("rlsp-bi-dis-7-48", weights=tmp_path / "rebuilt.safetensors").eval()
    clip = _shifted_clip(dx=1, t_len=4, h=24, w=32)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(clip), source(clip), rtol=0, atol=0)
    with pytest.raises(ValueError, match="direction must be"):
        source.direction_cell("sideways")


@pytest.mark.parametrize("tied", [True, False])
def test_preroll_is_the_run_on_the_clip_mirrored_in_time_at_both_ends(tied: bool, tmp_path) -> None:
    """``preroll=K``: the same outputs as ``preroll=0`` on ``K..1, 0..T-1, T-2..T-1-K``, cropped, counts of frames
    seen included (DIS flows, a turned backward view, horizon weights); capped at T - 1; saved with the weights;
    a guided forward cell at zero guide weight still gives the unguided outputs (its pre-roll reads the guide)."""
    torch.manual_seed(11)
    plain = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=tied,
                         backward_view="rot90-ccw", horizon_tau=2.0).eval()
    clip = _shifted_clip(dx=1, t_len=5, h=24, w=32)
    t_len = clip.shape[1]
    for k in (1, 3, 9):
        rolled = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, fusion_layers=0, tied=tied,
                              backward_view="rot90-ccw", horizon_tau=2.0, preroll=k).eval()
        rolled.load_state_dict(plain.state_dict())
        cap = min(k, t_len - 1)
        mirrored = [*range(cap, 0, -1), *range(t_len), *range(t_len - 2, t_len - 2 - cap, -1)]
        with torch.no_grad():
            expected = plain(clip[:, mirrored])[:, cap:cap + t_len]
            got = rolled(clip)
            torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
            assert not torch.allclose(got, plain(clip), atol=1e-3)
            # Each direction apart: the pre-roll changes the forward run most at the start, the backward at the end.
            forward, backward = rolled.run_directions(clip)
            plain_forward, plain_backward = plain.run_directions(clip)
            assert (forward - plain_forward)[:, 0].abs().max() > (forward - plain_forward)[:, -1].abs().max()
            assert (backward - plain_backward)[:, -1].abs().max() > (backward - plain_backward)[:, 0].abs().max()
    save_weights(rolled, tmp_path / "preroll.safetensors")
    assert create_model("rlsp-bi-dis-7-48", weights=tmp_path / "preroll.safetensors", filters=8).preroll == 9
    if not tied:
        guided = rolled.with_backward_guide().eval()
        assert guided.preroll == 9
        with torch.no_grad():
            torch.testing.assert_close(guided(clip), rolled(clip), rtol=0, atol=0)
    with pytest.raises(ValueError, match="preroll"):
        BidirectionalRLSP(preroll=-1)
