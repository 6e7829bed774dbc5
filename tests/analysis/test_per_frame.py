"""Streaming per-frame scoring equals the whole-sequence model and the evaluation engine."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vsrkit import create_model
from vsrkit.analysis.per_frame import delta_psnr, iter_source, per_frame_scores, stream_outputs
from vsrkit.analysis.temporal_profile import ProfileCollector, profile_stats
from vsrkit.data.quasistatic import QuasiStaticParams, write_quasistatic
from vsrkit.engine.evaluate import evaluate
from vsrkit.errors import VsrkitError


@pytest.mark.parametrize("name", ["mrvsr", "rfs3", "rlsp-7-128"])
def test_stream_equals_forward(name: str) -> None:
    model = create_model(name, pretrained=False, filters=4).eval()
    clip = torch.rand(1, 5, 3, 8, 8)
    with torch.no_grad():
        whole = model(clip)[0]
    streamed = torch.stack([out for _, out in stream_outputs(model, iter(clip[0]))])
    torch.testing.assert_close(streamed, whole, rtol=0, atol=0)


def test_scores_match_the_evaluation_engine(tmp_path: Path) -> None:
    seq = write_quasistatic(torch.rand(1, 3, 32, 32), tmp_path / "q", QuasiStaticParams(frames=7, seed=4))
    model = create_model("mrvsr", pretrained=False, filters=4, srnl_size=8).eval()
    ours = per_frame_scores(model, iter_source(seq), degradation="mrvsr", protocol="mrvsr")
    ref = evaluate(model, seq, degradation="mrvsr", protocol="mrvsr")["sequences"]["q"]["frames"]
    assert len(ours) == 7 and len(ref) == 3  # the protocol scores frames 2..N-3
    for a, b in zip(ours[2:-2], ref):
        assert a["psnr"] == pytest.approx(b["psnr"], abs=1e-9)
        assert a["ssim"] == pytest.approx(b["ssim"], abs=1e-9)


def test_delta_and_profile(tmp_path: Path) -> None:
    scores = {"a": [{"psnr": 30.0}, {"psnr": 31.0}], "b": [{"psnr": 29.0}, {"psnr": 31.5}]}
    assert delta_psnr(scores, "a") == {"a": [0.0, 0.0], "b": [-1.0, 0.5]}
    with pytest.raises(VsrkitError, match="reference"):
        delta_psnr(scores, "c")
    hook = ProfileCollector(start=1, count=2, fraction=0.5)
    for t in range(4):
        hook(t, torch.full((1, 4, 8), 0.1 * t), torch.zeros(3, 4, 8))
    prof = hook.profile()
    assert prof.shape == (2, 4)
    stats = profile_stats(prof)
    assert stats["drift"] == pytest.approx(0.1 * 255) and stats["frames"] == 2
