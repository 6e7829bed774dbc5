"""Upscaler: streaming equals whole-clip, chunked bidirectional equals whole-clip, tiling, precision,
flat memory (lazy pulls) and the file path keeping timestamps, audio and colours."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vsrkit import create_model
from vsrkit.color import rgb_to_y
from vsrkit.demo import combed, flat, scene, write_sample_video
from vsrkit.engine.scene_cuts import NEIGHBOURS
from vsrkit.engine.upscaler import Upscaler, choose_precision, cpu_has_native_bf16, make_tiles
from vsrkit.io.video import VideoInput
from vsrkit.models.base import StreamingVSRModel, VSRModel


class LocalConv(StreamingVSRModel):
    """Stateless window model with a 2-pixel spatial receptive field (two 3x3 convs), RGB x2."""

    arch = "test-local"
    kind = "sliding-window"
    radius = 1

    def __init__(self) -> None:
        super().__init__()
        self.scale = 2
        self.body = nn.Sequential(nn.Conv2d(9, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 12, 3, padding=1))

    def step(self, window: Tensor, state: None) -> tuple[Tensor, None]:
        b, n, c, h, w = window.shape
        out = F.pixel_shuffle(self.body(window.reshape(b, n * c, h, w)), 2)
        return out + F.interpolate(window[:, 1], scale_factor=2, mode="nearest"), None


class TemporalBlur(VSRModel):
    """Bidirectional test model: ``depth`` temporal [1, 2, 1] filters (edge-replicated), so output t
    depends on inputs t - depth .. t + depth; then ``temporal_scale`` frames per input (the frame and
    its blends towards the next one) and nearest x2 upsampling."""

    arch = "test-bidir"
    kind = "bidirectional"

    def __init__(self, depth: int = 2, temporal_scale: int = 1) -> None:
        super().__init__()
        self.scale = 2
        self.depth = depth
        self.temporal_scale = temporal_scale  # type: ignore[misc]
        self.chunk_warmup = depth + (1 if temporal_scale > 1 else 0)  # type: ignore[misc]
        self.mix = nn.Parameter(torch.tensor(0.7))

    def forward(self, lr: Tensor) -> Tensor:
        x = lr
        for _ in range(self.depth):
            p = torch.cat([x[:, :1], x, x[:, -1:]], dim=1)
            x = (p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]) / 4 * self.mix + x * (1 - self.mix)
        k = self.temporal_scale
        nxt = torch.cat([x[:, 1:], x[:, -1:]], dim=1)
        frames = [x + (nxt - x) * (j / k) for j in range(k)]
        x = torch.stack(frames, dim=2).flatten(1, 2)
        b, t = x.shape[:2]
        return F.interpolate(x.flatten(0, 1), scale_factor=2, mode="nearest").unflatten(0, (b, t))


def _counting(frames: list[Tensor], log: list[int]):
    for i, f in enumerate(frames):
        log.append(i)
        yield f


def test_recurrent_stream_equals_whole_clip_and_y_is_kept() -> None:
    model = create_model("rlsp-7-48", pretrained=False, filters=8).eval()
    clip = torch.rand(5, 3, 12, 16)
    up = Upscaler(model, device="cpu", precision="fp32")
    out = up.upscale_clip(clip)
    with torch.no_grad():
        y = model(clip[None])[0]
    assert out.shape == (5, 3, 48, 64)
    # Chroma comes from bicubic LR Cb/Cr, luma from the model: the output's Y is the model's Y
    # wherever RGB did not clip.
    y_out = rgb_to_y(out)
    inside = ((out > 0.01) & (out < 0.99)).all(dim=1, keepdim=True)
    assert inside.float().mean() > 0.5
    torch.testing.assert_close(y_out[inside], y.clamp(0, 1)[inside], atol=2e-3, rtol=0)


@pytest.mark.parametrize("scene_cuts", [False, True])
def test_streaming_pulls_frames_lazily(scene_cuts: bool) -> None:
    model = create_model("rlsp-7-48", pretrained=False, filters=8).eval()
    up = Upscaler(model, device="cpu", precision="fp32", scene_cuts=scene_cuts)
    log: list[int] = []
    frames = [torch.rand(3, 8, 8) for _ in range(10)]
    it = up.stream(_counting(frames, log))
    # Frame 0 and its one look-ahead frame, and the frames after it the cut test looks at.
    ahead = 1 + (NEIGHBOURS if scene_cuts else 0)
    next(it)
    assert len(log) == 1 + ahead
    next(it)
    assert len(log) == 2 + ahead


@pytest.mark.parametrize("chunk", [1, 3, 4])
def test_bidirectional_chunks_equal_whole_clip(chunk: int) -> None:
    model = TemporalBlur(depth=2).eval()
    clip = torch.rand(11, 3, 6, 8)
    with torch.no_grad():
        whole = model(clip[None])[0].clamp(0, 1)
    out = Upscaler(model, device="cpu", precision="fp32", chunk=chunk).upscale_clip(clip)
    torch.testing.assert_close(out, whole, atol=1e-6, rtol=0)
    # Without warm-up frames the chunk borders differ: the test can see a wrong warm-up.
    cut = Upscaler(model, device="cpu", precision="fp32", chunk=chunk, warmup=0).upscale_clip(clip)
    assert (cut - whole).abs().max() > 1e-3


@pytest.mark.parametrize("scene_cuts", [False, True])
def test_bidirectional_holds_at_most_chunk_plus_warmup(scene_cuts: bool) -> None:
    model = TemporalBlur(depth=2).eval()
    up = Upscaler(model, device="cpu", precision="fp32", chunk=4, scene_cuts=scene_cuts)
    log: list[int] = []
    it = up.stream(_counting([torch.rand(3, 6, 6) for _ in range(30)], log))
    next(it)
    assert len(log) == 4 + 2 + (NEIGHBOURS if scene_cuts else 0)


def test_space_time_model_gives_temporal_scale_frames_per_input() -> None:
    model = TemporalBlur(depth=1, temporal_scale=3).eval()
    clip = torch.rand(7, 3, 6, 8)
    with torch.no_grad():
        whole = model(clip[None])[0].clamp(0, 1)
    out = Upscaler(model, device="cpu", precision="fp32", chunk=2).upscale_clip(clip)
    assert out.shape == (21, 3, 12, 16)
    torch.testing.assert_close(out, whole, atol=1e-6, rtol=0)


@pytest.mark.parametrize(("h", "w", "tile", "overlap"), [(30, 44, 8, 4), (17, 23, 6, 8), (64, 64, 20, 16)])
def test_tile_weights_sum_to_one(h: int, w: int, tile: int, overlap: int) -> None:
    s = 3
    tiles = make_tiles(h, w, tile, overlap, s, torch.device("cpu"))
    total = torch.zeros(h * s, w * s)
    for t in tiles:
        assert t.weight is not None
        total[t.y0 * s : t.y1 * s, t.x0 * s : t.x1 * s] += t.weight[0, 0]
    assert len(tiles) > 1
    torch.testing.assert_close(total, torch.ones_like(total))


def test_tiled_equals_untiled_within_receptive_field() -> None:
    model = LocalConv().eval()
    clip = torch.rand(4, 3, 37, 45)
    ref = Upscaler(model, device="cpu", precision="fp32").upscale_clip(clip)
    tiled = Upscaler(model, device="cpu", precision="fp32", tile=10, tile_overlap=6).upscale_clip(clip)
    torch.testing.assert_close(tiled, ref, atol=1e-5, rtol=0)
    # Overlap below the receptive field shows: the check is sensitive to seams.
    seamy = Upscaler(model, device="cpu", precision="fp32", tile=10, tile_overlap=0).upscale_clip(clip)
    assert (seamy - ref).abs().max() > 1e-3


def test_recurrent_tiles_keep_one_state_each() -> None:
    # RLSP's receptive field grows 7 px per frame through its state: with 2 frames it is 14 px, which
    # a 32-px overlap (16 px trusted) covers, so tiles with their own states reproduce the full frame.
    model = create_model("rlsp-7-48", pretrained=False, filters=8).eval()
    clip = torch.rand(2, 3, 40, 52)
    ref = Upscaler(model, device="cpu", precision="fp32").upscale_clip(clip)
    tiled = Upscaler(model, device="cpu", precision="fp32", tile=16, tile_overlap=32).upscale_clip(clip)
    torch.testing.assert_close(tiled, ref, atol=1e-4, rtol=0)


def test_precision_choice_and_bf16_path_runs() -> None:
    bicubic = create_model("bicubic")
    assert choose_precision(bicubic, torch.device("cpu"), "auto") == torch.float32
    assert choose_precision(bicubic, torch.device("cpu"), "bf16") == torch.bfloat16
    model = create_model("rlsp-7-48", pretrained=False, filters=8).eval()
    # RLSP's measured bf16 cost is within the budget: auto follows the CPU's native bf16 support.
    native = torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    assert choose_precision(model, torch.device("cpu"), "auto") == native
    clip = torch.rand(3, 3, 12, 16) * 0.5 + 0.25
    ref = Upscaler(model, device="cpu", precision="fp32").upscale_clip(clip)
    low = Upscaler(model, device="cpu", precision="bf16").upscale_clip(clip)
    assert low.dtype == torch.float32
    assert (low - ref).abs().max() < 0.05


def test_low_precision_without_cpu_kernels_is_warned(monkeypatch: pytest.MonkeyPatch) -> None:
    import vsrkit.engine.device as device_module

    model = create_model("rlsp-7-48", pretrained=False, filters=8).eval()
    monkeypatch.setattr(device_module, "onednn_supports", lambda dtype: dtype == torch.float32)
    assert Upscaler(model, device="cpu", precision="fp32").precision_warning is None
    slow = Upscaler(model, device="cpu", precision="bf16")
    assert slow.precision_warning is not None
    assert slow.precision_warning.startswith("bf16 on this CPU has no native kernels")
    assert "--precision auto or fp32" in slow.precision_warning
    # Asked for, it still runs.
    assert slow.upscale_clip(torch.rand(2, 3, 8, 8)).shape == (2, 3, 32, 32)
    monkeypatch.setattr(device_module, "onednn_supports", lambda dtype: True)
    assert Upscaler(model, device="cpu", precision="bf16").precision_warning is None


def test_repeated_timestamps_still_make_an_mp4(tmp_path: Path) -> None:
    src = tmp_path / "dup.mkv"
    write_sample_video(src, flat((90, 120, 30), 16, 16), frames=6, timestamps=[0, 40, 40, 80, 120, 120, 160],
                       audio=False)
    dst = tmp_path / "out.mp4"
    summary = Upscaler("bicubic", device="cpu").upscale(src, dst, progress=False)
    assert summary.frames_in == summary.frames_out == 6
    assert any("2 frame(s) had a timestamp not after" in w for w in summary.warnings)
    with VideoInput(dst) as video:
        times = [float(pts * video.info.time_base) for _, pts, _ in video.frames()]
    assert len(times) == 6 and all(b > a for a, b in itertools.pairwise(times))
    assert times[1] == pytest.approx(0.040) and times[2] == pytest.approx(0.041, abs=1e-3)


def test_file_keeps_timestamps_audio_duration_and_colour(tmp_path: Path) -> None:
    src = tmp_path / "vfr.mp4"
    stamps = [0, 40, 80, 200, 233, 273, 400, 440, 480, 520, 560]  # ms; the last is the end
    colour = (200, 60, 30)
    write_sample_video(src, flat(colour, 32, 24), frames=10, timestamps=stamps, audio=True)
    dst = tmp_path / "out.mp4"
    summary = Upscaler("bicubic", device="cpu").upscale(src, dst, progress=False)
    assert summary.frames_in == summary.frames_out == 10

    def read(path: Path) -> tuple[list[float], list[np.ndarray], list[bytes], float, str]:
        times, firsts = [], []
        with VideoInput(path) as video:
            pix = video.info.pix_fmt
            for rgb, pts, dur in video.frames():
                times.append(float(pts * video.info.time_base))
                firsts.append(rgb[:, rgb.shape[1] // 2, rgb.shape[2] // 2].numpy())
            end = float((pts + dur) * video.info.time_base)
        with av.open(str(path)) as c:
            audio = [bytes(p) for p in c.demux(audio=0) if p.size]
        return times, firsts, audio, end, pix

    t_in, _, a_in, end_in, _ = read(src)
    t_out, colours, a_out, end_out, pix = read(dst)
    assert t_in == pytest.approx([s / 1000 for s in stamps[:-1]], abs=1e-6)
    assert t_out == t_in
    assert len(a_in) > 10 and a_out == a_in
    assert abs(end_out - end_in) <= 0.040
    assert pix == "yuv420p"
    expected = np.asarray(colour) / 255
    for c in colours:
        assert np.abs(c - expected).max() <= 2 / 255
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_ten_bit_stays_ten_bit_and_bt601_tag_is_kept(tmp_path: Path) -> None:
    from av.video.reformatter import Colorspace

    src = tmp_path / "ten.mkv"
    write_sample_video(src, scene(32, 24, supersample=1), frames=3, fps=25, audio=False,
                       pix_fmt="yuv420p10le", matrix=Colorspace.ITU601)
    dst = tmp_path / "ten_x4.mkv"
    Upscaler("bicubic", device="cpu").upscale(src, dst, progress=False)
    with VideoInput(dst) as video:
        assert video.info.pix_fmt == "yuv420p10le"
        assert video.info.matrix == Colorspace.ITU601 and not video.info.matrix_guessed
        assert (video.info.width, video.info.height) == (128, 96)


def test_interrupt_leaves_no_output(tmp_path: Path) -> None:
    src = write_sample_video(tmp_path / "in.mp4", scene(32, 24, supersample=1), frames=6, audio=True)
    up = Upscaler("bicubic", device="cpu")
    calls = 0
    original = up._compose

    def boom(*args: object) -> Tensor:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return original(*args)  # type: ignore[arg-type]

    up._compose = boom  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        up.upscale(src, tmp_path / "out.mp4", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_realworld_street_video_made_from_folder(tmp_path: Path, shared) -> None:
    folder = shared("data", "lr_only", "realworld_street")
    frames = sorted(folder.iterdir())[:3]
    from vsrkit.io.frames import read_image

    first = read_image(frames[0])
    src = write_sample_video(
        tmp_path / "street.mp4", lambda t: (read_image(frames[t]) * 255).round().astype(np.uint8),
        frames=len(frames), fps=Fraction(30000, 1001), audio=False,
    )
    assert first.shape == (360, 640, 3)
    out = tmp_path / "street_frames"
    summary = Upscaler("bicubic", device="cpu").upscale(src, out, progress=False)
    assert summary.frames_out == 3
    pngs = sorted(out.iterdir())
    assert len(pngs) == 3 and pngs[0].suffix == ".png"
    assert read_image(pngs[0]).shape == (1440, 2560, 3)


def _y_passthrough_model() -> VSRModel:
    """RLSP with all weights zero: its Y output is the nearest-neighbour upsampled LR luma."""
    model = create_model("rlsp-7-48", pretrained=False)
    for p in model.parameters():
        nn.init.zeros_(p)
    return model


def _decode(path: Path) -> list[Tensor]:
    with VideoInput(path) as video:
        return [rgb for rgb, _, _ in video.frames()]


@pytest.mark.parametrize("matrix_name", ["ITU601", "ITU709"])
def test_y_model_writes_yuv_planes_directly_and_matches_the_rgb_path(tmp_path: Path, monkeypatch, matrix_name: str) -> None:
    from av.video.reformatter import Colorspace

    from vsrkit.io.video import VideoOutput

    colour = (200, 60, 30)
    matrix = getattr(Colorspace, matrix_name)
    flat_src = write_sample_video(tmp_path / "flat.mp4", flat(colour, 32, 24), frames=4, audio=False, matrix=matrix)
    src = write_sample_video(tmp_path / "scene.mp4", scene(48, 32, supersample=1), frames=4, audio=False, matrix=matrix)

    def no_rgb(*_args, **_kwargs):
        raise AssertionError("RGB write used where the direct 4:2:0 path applies")

    with monkeypatch.context() as m:
        m.setattr(VideoOutput, "write", no_rgb)
        Upscaler(_y_passthrough_model(), device="cpu", precision="fp32").upscale(flat_src, tmp_path / "f.mp4", progress=False)
        Upscaler(_y_passthrough_model(), device="cpu", precision="fp32").upscale(src, tmp_path / "d.mp4", progress=False)
    for rgb in _decode(tmp_path / "f.mp4"):
        assert (rgb[:, 40:56, 40:88] - torch.tensor(colour)[:, None, None] / 255).abs().max() <= 2 / 255

    with monkeypatch.context() as m:
        m.setattr(VideoOutput, "yuv420_matrix", property(lambda self: None))
        Upscaler(_y_passthrough_model(), device="cpu", precision="fp32").upscale(src, tmp_path / "r.mp4", progress=False)
    direct, via_rgb = _decode(tmp_path / "d.mp4"), _decode(tmp_path / "r.mp4")
    assert len(direct) == len(via_rgb) == 4
    for a, b in zip(direct, via_rgb):
        # Same luma; chroma differs only by the resampling route (x2 directly vs x4 then 2x2 mean).
        assert (rgb_to_y(a) - rgb_to_y(b)).abs().mean() <= 1.5 / 255
        assert (a - b).abs().mean() <= 2 / 255


def _textured_clip(t_len: int, h: int, w: int) -> Tensor:
    """A smooth texture panning one pixel per frame: DIS finds real flow in it."""
    g = torch.Generator().manual_seed(5)
    big = F.interpolate(torch.rand(1, 3, h // 3 + 4, (w + t_len) // 3 + 4, generator=g),
                        size=(h + 8, w + t_len + 8), mode="bicubic", align_corners=False).clamp(0, 1)[0]
    return torch.stack([big[:, 4 : 4 + h, 4 + k : 4 + k + w] for k in range(t_len)])


@pytest.mark.parametrize(("views", "backward_view", "horizon_tau", "backward_guide"),
                         [(1, "identity", 0.0, False), (2, "identity", 0.0, False), (1, "rot90-ccw", 0.0, False),
                          (1, "rot90-ccw", 3.0, False), (1, "rot90-ccw", 3.0, True)])
def test_carried_chunks_equal_whole_clip(views: int, backward_view: str, horizon_tau: float,
                                         backward_guide: bool) -> None:
    """The bidirectional RLSP hands its forward state from chunk to chunk: with the backward
    direction given the rest of the clip as warm-up, chunked output is the whole-clip output,
    through the self-ensemble's per-view carries too, with the backward cell on a turned view,
    with the directions weighted by frames seen (the forward count travels with the carry), and with
    the forward cell reading the backward run (random guide weights, so the guide counts)."""
    from vsrkit.engine.self_ensemble import with_self_ensemble

    torch.manual_seed(6)
    model = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8, backward_view=backward_view,
                         horizon_tau=horizon_tau, backward_guide=backward_guide).eval()
    assert model.carries_chunk_state
    clip = _textured_clip(9, 16, 20)
    with torch.no_grad():
        whole = with_self_ensemble(model, views)(clip[None])[0]
    up = Upscaler(model, device="cpu", precision="fp32", chunk=3, warmup=9, self_ensemble=views)
    chunked = torch.cat([out for _, out, _ in up._outputs(iter(clip))])
    torch.testing.assert_close(chunked, whole, atol=2e-5, rtol=0)


def test_run_chunk_continues_the_forward_direction() -> None:
    """Float64, where a random tiny network's memory (~1e-6 per step) is far above rounding."""
    torch.manual_seed(7)
    model = create_model("rlsp-bi-dis-7-48", pretrained=False, filters=8).double().eval()
    clip = _textured_clip(8, 16, 20).double()[None]
    with torch.no_grad():
        whole = model(clip)
        head, carry = model.run_chunk(clip[:, :4], None, 0, 3)
        # The rest of the clip, one frame of look-back: the backward cell sees the same frames.
        tail, _ = model.run_chunk(clip[:, 2:], carry, 1, 6)
        torch.testing.assert_close(torch.cat([head, tail], dim=1)[:, 3:], whole[:, 3:], atol=1e-12, rtol=0)
        # The head's backward cell started at frame 3, not at the clip's end.
        assert (head - whole[:, :3]).abs().max() > 1e-10
        fresh, _ = model.run_chunk(clip[:, 3:], None, 0, 5)
        assert (fresh - whole[:, 3:]).abs().max() > 1e-10  # without the carry, frame 3 starts cold
        with pytest.raises(ValueError, match="previous chunk's state"):
            model.run_chunk(clip, None, 1, 3)
        with pytest.raises(ValueError, match="not in a clip"):
            model.run_chunk(clip, carry, 5, 9)


def test_16_bit_frames_come_out_as_16_bit_pngs(tmp_path: Path) -> None:
    from vsrkit.io.frames import read_image, write_image

    src = tmp_path / "frames16"
    src.mkdir()
    # A ramp finer than 8 bits: 8-bit output would round it to multiples of 257.
    ramp = torch.linspace(0.25, 0.25 + 40 / 65535, 24).view(1, 1, 24).expand(3, 16, 24).contiguous()
    for i in range(3):
        write_image(src / f"f{i}.png", ramp, bits=16)
    (src / "Thumbs.db").write_bytes(b"\0" * 64)  # left by Windows Explorer; skipped, not an error
    dst = tmp_path / "out"
    summary = Upscaler("bicubic", device="cpu").upscale(src, dst, progress=False)
    assert summary.frames_out == 3
    out = read_image(min(dst.iterdir()))
    codes = np.round(out * 65535).astype(np.int64)
    assert (codes % 257 != 0).any()  # the low byte carries information
    expected = F.interpolate(ramp[None], scale_factor=4, mode="bicubic", align_corners=False)[0]
    # Away from the borders bicubic of a linear ramp is the ramp: within a 16-bit step or two.
    assert np.abs(out[8:-8, 8:-8].transpose(2, 0, 1) - expected[:, 8:-8, 8:-8].numpy()).max() < 3 / 65535


def test_10_bit_video_to_frames_writes_16_bit_pngs(tmp_path: Path) -> None:
    from vsrkit.io.frames import image_bit_depth

    src = write_sample_video(tmp_path / "ten.mkv", flat((90, 120, 30), 16, 16), frames=2, audio=False,
                             pix_fmt="yuv420p10le")
    eight = write_sample_video(tmp_path / "eight.mkv", flat((90, 120, 30), 16, 16), frames=2, audio=False)
    for video, bits in ((src, 16), (eight, 8)):
        dst = tmp_path / f"out_{video.stem}"
        Upscaler("bicubic", device="cpu").upscale(video, dst, progress=False)
        assert {image_bit_depth(p) for p in dst.iterdir()} == {bits}


def test_output_size_resizes_the_model_output_before_the_chroma_is_added(tmp_path: Path) -> None:
    from vsrkit.engine.upscaler import output_size
    from vsrkit.io.frames import read_image, write_image
    from vsrkit.layers.resize import imresize

    assert output_size(30, 40, model_scale=4) == (120, 160)
    assert output_size(30, 40, model_scale=4, scale=2.5) == (76, 100)  # rounded to even sides
    assert output_size(30, 40, model_scale=4, size=(100, -1)) == (76, 100)
    assert output_size(30, 40, model_scale=4, size=(-1, 90)) == (90, 120)
    assert output_size(30, 40, model_scale=4, size=(101, 33)) == (33, 101)  # exact sizes stay as given
    # A 16:9 DVD (720x480, pixels 32:27 wide) to 1080 lines: 1920 wide, as it is shown.
    assert output_size(480, 720, model_scale=4, size=(-1, 1080), pixel_aspect=Fraction(32, 27)) == (1080, 1920)

    src = tmp_path / "frames"
    src.mkdir()
    rng = torch.Generator().manual_seed(0)
    for i in range(3):
        write_image(src / f"{i}.png", torch.rand(3, 20, 24, generator=rng))
    model = create_model("rlsp-7-48")  # Y-only: chroma comes from the LR frames at the output size
    upscaler = Upscaler(model, device="cpu")
    full = upscaler.upscale(src, tmp_path / "full", progress=False)
    half = upscaler.upscale(src, tmp_path / "half", scale=2, progress=False)
    assert full.size_out == (80, 96) and half.size_out == (40, 48)
    lr = torch.stack([torch.from_numpy(read_image(src / f"{i}.png")).permute(2, 0, 1) for i in range(3)])
    with torch.inference_mode():
        y = torch.cat([o for _, o, _ in upscaler._outputs(lr.unbind(0))])
        expected = upscaler._compose(imresize(y, size=(40, 48)), lr)
    got = torch.stack([torch.from_numpy(read_image(p)).permute(2, 0, 1) for p in sorted((tmp_path / "half").iterdir())])
    assert got.shape == expected.shape
    assert (got - expected).abs().max() <= 0.5 / 255 + 1e-6
    streamed = torch.cat(list(upscaler.stream(lr.unbind(0), size=(40, 48))))
    assert (got - streamed).abs().max() <= 0.5 / 255 + 1e-6


def test_interlaced_video_is_deinterlaced_unless_told_not_to(tmp_path: Path) -> None:
    src = write_sample_video(tmp_path / "tv.mp4", combed(64, 48), frames=4, fps=25, audio=False, interlaced=True)
    upscaler = Upscaler("bicubic", device="cpu")
    auto = upscaler.upscale(src, tmp_path / "auto.mp4", progress=False)
    assert any("deinterlaced (top field first" in n for n in auto.notes) and not auto.warnings
    forced_off = upscaler.upscale(src, tmp_path / "off.mp4", deinterlace=False, progress=False)
    assert not any("deinterlaced" in n for n in forced_off.notes)
    assert any("interlaced (top field first) but upscaled as progressive" in w for w in forced_off.warnings)
    with VideoInput(tmp_path / "auto.mp4") as a, VideoInput(tmp_path / "off.mp4") as b:
        assert a.info.field_order is None  # written progressive
        # The off run keeps the combs, 4 lines apart after x4: lines 2 apart differ far more in it.
        def comb(frames: list) -> float:
            return float(np.mean([(f[0, 2:] - f[0, :-2]).abs().mean() for f, _, _ in frames]))
        assert comb(list(a.frames())) < 0.5 * comb(list(b.frames()))


def test_start_and_duration_make_a_part_that_starts_at_zero(tmp_path: Path) -> None:
    from vsrkit.engine.upscaler import parse_time
    from vsrkit.io.frames import read_image

    assert parse_time("90", "--start") == 90 and parse_time("1:30", "--start") == 90
    assert parse_time("0:01:30.5", "--start") == 90.5
    src = write_sample_video(tmp_path / "in.mp4", scene(32, 24), frames=48, fps=24, audio=True)
    upscaler = Upscaler("bicubic", device="cpu")
    full = upscaler.upscale(src, tmp_path / "full", progress=False)
    part = upscaler.upscale(src, tmp_path / "part", start=0.5, duration=1, progress=False)
    assert (full.frames_out, part.frames_out) == (48, 24)
    full_frames, part_frames = sorted((tmp_path / "full").iterdir()), sorted((tmp_path / "part").iterdir())
    for i in (0, 23):  # the same pictures as frames 12 and 35 of the whole run
        assert np.array_equal(read_image(part_frames[i]), read_image(full_frames[12 + i]))
    video = upscaler.upscale(src, tmp_path / "part.mp4", start=0.5, duration=1, progress=False)
    assert video.frames_out == 24 and any("from 0.5 s for 1 s" in n for n in video.notes)
    with av.open(str(tmp_path / "part.mp4")) as c:
        first_video = next(c.decode(video=0))
    with av.open(str(tmp_path / "part.mp4")) as c:
        audio = list(c.decode(audio=0))
    assert float(first_video.pts * first_video.time_base) == pytest.approx(0.0, abs=1e-6)
    audio_start = float(audio[0].pts * audio[0].time_base)
    audio_end = float(audio[-1].pts * audio[-1].time_base) + audio[-1].samples / audio[-1].sample_rate
    assert audio_start < 0.05 and abs(audio_end - 1.0) < 0.05  # the same second of sound, moved to 0
