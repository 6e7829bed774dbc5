"""Upscaler speed on this machine: model frames/s (fp32, bf16), GFLOP/s and fraction of peak,
onnxruntime fp32 on the same exported network in the same run, and end-to-end mp4 -> mp4.

    python benchmarks/upscale_speed.py            # speed (random-init weights: speed does not
                                                  # depend on them) [--table-only | --e2e-only]
    python benchmarks/upscale_speed.py --quality  # bf16 Y-PSNR cost on Vid4 (official RLSP 7-64)

The machine may be shared: the load average is printed with every figure, and the onnxruntime
comparison is a ratio measured in the same process, alternating runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from vsrkit import create_model
from vsrkit.engine.device import PRECISION_DTYPES
from vsrkit.engine.onnx_export import export_onnx
from vsrkit.engine.upscaler import Upscaler, cpu_has_native_bf16
from vsrkit.layers.fused import onednn_supports


def load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def cpu_ghz() -> float:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return float(line.split(":")[1]) / 1000
    except OSError:
        pass
    return 2.0


def peak_gflops(dtype: torch.dtype) -> float:
    """Nominal peak of the cores torch uses, from the CPU's flags. fp32: 2 FMA units x lanes x 2 FLOP, so 64
    FLOP/cycle with AVX-512 and 32 with AVX2 + FMA (the 2026-12-04 AMD EPYC); bf16: AMX 1024 FLOP/cycle (Intel's
    figure for Sapphire Rapids), AVX512-BF16 128, and without bf16 kernels the fp32 figure (bf16 then runs in
    reference loops far below it)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        flags = ""
    fp32_per_cycle = 64 if "avx512f" in flags else (32 if " fma" in flags else 16)
    per_cycle = fp32_per_cycle
    if dtype == torch.bfloat16:
        per_cycle = 1024 if "amx_bf16" in flags else (128 if "avx512_bf16" in flags else fp32_per_cycle)
    return torch.get_num_threads() * cpu_ghz() * per_cycle


def conv_flops_per_frame(model: nn.Module, h: int, w: int) -> float:
    """2 x MACs of every Conv2d in one step on an ``h`` x ``w`` LR frame (all convs run at LR size)."""
    total = 0
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            total += 2 * m.in_channels * m.out_channels * kh * kw * h * w // m.groups
    return float(total)


def time_stream(up: Upscaler, frames: list[torch.Tensor], repeats: int = 1) -> float:
    """Frames/s of Upscaler.stream (model, chroma, blending) over in-memory frames; best of repeats."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        n = sum(1 for _ in up.stream(frames))
        best = max(best, n / (time.perf_counter() - start))
    return best


def time_step(up: Upscaler, h: int, w: int, frames: int, repeats: int = 2) -> float:
    """Frames/s of the model step alone, as the Upscaler calls it (bf16 weights, channels-last and
    fused conv+ReLU where it applies); no chroma, no blending."""
    x = torch.rand(1, 3, 3, h, w)
    best = 0.0
    with torch.inference_mode():
        state = None
        for _ in range(3):
            _, state = up._step(x, state)
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(frames):
                _, state = up._step(x, state)
            best = max(best, frames / (time.perf_counter() - start))
    return best


def time_convs_only(model: nn.Module, h: int, w: int, dtype: torch.dtype, frames: int) -> float:
    """Frames/s of the model's convolutions alone (same shapes, channels-last, no cell around them):
    the ceiling any implementation of the cell built on these oneDNN kernels can reach."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    inputs = [torch.rand(1, c.in_channels, h, w).to(dtype).contiguous(memory_format=torch.channels_last) for c in convs]
    convs = [nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, padding=c.padding).to(dtype)
             .to(memory_format=torch.channels_last).eval() for c in convs]
    best = 0.0
    with torch.inference_mode():
        for _ in range(2):
            start = time.perf_counter()
            for _ in range(frames):
                for conv, x in zip(convs, inputs):
                    conv(x)
            best = max(best, frames / (time.perf_counter() - start))
    return best


def onnx_vs_torch(name: str, h: int, w: int, frames: int, rounds: int) -> tuple[float, float]:
    """Model-only fp32 step loop: (torch fps as the Upscaler runs it, onnxruntime fps), alternating."""
    import onnxruntime as ort

    model = create_model(name, pretrained=False).eval()
    up = Upscaler(model, device="cpu", precision="fp32")
    x = torch.rand(1, 3, 3, h, w)
    state = model.initial_state(x[:, 0])
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(model, Path(tmp) / "step.onnx", name=name).path
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    xn = x.numpy()

    def run_ort() -> float:
        hn, fn = (s.numpy() for s in state)
        start = time.perf_counter()
        for _ in range(frames):
            _, hn, fn = sess.run(None, {"window": xn, "state0": hn, "state1": fn})
        return frames / (time.perf_counter() - start)

    def run_torch() -> float:
        st = None
        start = time.perf_counter()
        with torch.inference_mode():
            for _ in range(frames):
                _, st = up._step(x, st)
        return frames / (time.perf_counter() - start)

    run_ort(), run_torch()  # warm-up
    t_best = o_best = 0.0
    for _ in range(rounds):
        o_best = max(o_best, run_ort())
        t_best = max(t_best, run_torch())
    return t_best, o_best


def onnx_vs_torch_bidirectional(h: int, w: int, frames: int, rounds: int) -> tuple[float, float, float]:
    """The shipped `default` (two cells, temporal chunks) on a ``frames`` clip, fp32: (torch fps as `vsrkit
    upscale` runs it, onnxruntime fps through ``run_onnx``, largest difference), alternating; DIS flows in both."""
    from vsrkit.engine.onnx_export import run_onnx

    model = create_model("default").eval()
    up = Upscaler(model, device="cpu", precision="fp32", scene_cuts=False)
    clip = torch.rand(frames, 3, h // 8, w // 8)
    clip = torch.nn.functional.interpolate(clip, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    outputs: dict[str, torch.Tensor] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(model, Path(tmp) / "default.onnx", name="default").path

        def run_ort() -> float:
            start = time.perf_counter()
            outputs["ort"] = run_onnx(path, clip)
            return frames / (time.perf_counter() - start)

        def run_torch() -> float:
            start = time.perf_counter()
            with torch.inference_mode():
                outputs["torch"] = torch.cat([out for _, out, _ in up._outputs(clip.unbind(0))])
            return frames / (time.perf_counter() - start)

        t_best = o_best = 0.0
        for _ in range(rounds):
            o_best = max(o_best, run_ort())
            t_best = max(t_best, run_torch())
    return t_best, o_best, (outputs["ort"] - outputs["torch"]).abs().max().item()


def end_to_end(model: str, precision: str, frames: int, preset: str | None = None) -> tuple[float, str]:
    from vsrkit.demo import scene, write_sample_video

    with tempfile.TemporaryDirectory() as tmp:
        src = write_sample_video(Path(tmp) / "in.mp4", scene(180, 144, supersample=1), frames=frames, fps=25)
        up = Upscaler(create_model(model, pretrained=False), device="cpu", precision=precision)
        s = up.upscale(src, Path(tmp) / "out.mp4", preset=preset, progress=False)
    return s.fps, s.line().split(": ", 1)[1]


def speed(args: argparse.Namespace) -> None:
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, cpu {cpu_ghz():.1f} GHz, "
          f"native bf16 {cpu_has_native_bf16()}, {load()}")
    print(f"nominal peak: fp32 {peak_gflops(torch.float32):.0f} GFLOP/s, bf16 {peak_gflops(torch.bfloat16):.0f} GFLOP/s")
    print()
    print("frames/s: 'step' is the model cell alone as the Upscaler runs it; 'stream' adds chroma")
    print("upsampling and RGB composition (Upscaler.stream); 'convs only' is the cell's convolutions")
    print("alone, the ceiling for these oneDNN kernels. GFLOP/s and fraction of peak are for 'step'.")
    print("rlsp-dis-7-48 is rlsp-7-48 plus two DIS flows per frame and the warps of its inputs, state and")
    print("previous output ('convs only' is the same network's convolutions).")
    print(f"{'model':13} {'input':8} {'prec':5} {'step':>7} {'stream':>7} {'convs only':>10} {'GFLOP/s':>8} {'of peak':>8}   load")
    precisions = ("fp32", "bf16") if onednn_supports(torch.bfloat16) else ("fp32",)
    if len(precisions) == 1:
        print("no bf16 rows: this CPU has no bf16 kernels (AVX2 only), where bf16 runs in reference loops")
    for name in ("rlsp-7-48", "rlsp-dis-7-48", "rlsp-7-64"):
        model = create_model(name, pretrained=False).eval()
        for h, w in ((144, 180), (180, 320)):
            frames = [torch.rand(3, h, w) for _ in range(args.frames)]
            flops = conv_flops_per_frame(model, h, w)
            for precision in precisions:
                up = Upscaler(model, device="cpu", precision=precision)
                dtype = PRECISION_DTYPES[precision]
                step = time_step(up, h, w, args.frames, repeats=args.rounds)
                time_stream(up, frames[:5])
                fps = time_stream(up, frames, repeats=args.rounds)
                ceiling = time_convs_only(model, h, w, dtype, args.frames)
                gf = step * flops / 1e9
                print(f"{name:13} {w}x{h:<4} {precision:5} {step:7.1f} {fps:7.1f} {ceiling:10.1f} {gf:8.0f} "
                      f"{gf / peak_gflops(dtype):8.1%}   {load()}", flush=True)
    if args.table_only:
        return
    print()
    print("fp32 model-only step loop, same network exported to ONNX (opset 17), alternating runs:")
    for name in ("rlsp-7-48", "rlsp-7-64"):
        t, o = onnx_vs_torch(name, 144, 180, args.frames, args.rounds)
        print(f"  {name} 180x144: torch {t:.1f} frames/s, onnxruntime {o:.1f} frames/s, ratio torch/ort {t / o:.2f}   {load()}",
              flush=True)
    onnx_default(args)
    print()
    end_to_end_table(args)


def onnx_default(args: argparse.Namespace) -> None:
    frames = max(args.frames, 40)  # two chunk borders (chunks of 16)
    t, o, diff = onnx_vs_torch_bidirectional(144, 180, frames, args.rounds)
    print(f"  default 180x144, {frames} frames in chunks (both graphs, DIS flows included): torch {t:.2f} frames/s, "
          f"onnxruntime {o:.2f} frames/s, ratio torch/ort {t / o:.2f}, largest difference {diff:.1e}   {load()}",
          flush=True)


def end_to_end_table(args: argparse.Namespace) -> None:
    # Alternating presets and models, twice: the encoder shares the two cores with the model.
    # `default`: two DIS-aligned RLSP 10-64 cells (forward and backward, temporal chunks);
    # `default-causal`: DIS-aligned RLSP 7-48, streaming; `default-fast`: RLSP 7-48 without alignment.
    models = ("default", "default-causal", "default-fast")
    presets = ("veryfast", "superfast")
    results: dict[tuple[str, str], list[float]] = {}
    for preset in presets * 2:
        for model in models:
            fps, line = end_to_end(model, "auto", args.e2e_frames, preset)
            results.setdefault((model, preset), []).append(fps)
            print(f"end to end mp4 -> mp4 (180x144 -> 720x576, libx264 {preset} crf 18), {model}: {fps:.1f} frames/s   {load()}")
            print(f"  {line}")
    print()
    print("end to end, frames/s per round (same run; compare models only within one run):")
    print(f"{'model':16} " + " ".join(f"{p:>14}" for p in presets))
    for model in models:
        cells = (", ".join(f"{f:.1f}" for f in results[(model, p)]) for p in presets)
        print(f"{model:16} " + " ".join(f"{c:>14}" for c in cells))


def quality(args: argparse.Namespace) -> None:
    """bf16 cost on Vid4: official RLSP 7-64 weights with BD x4 ('gauss1.5'), or ``--model NAME``
    (its shipped weights) with ``--degradation``; RLSP protocol."""
    from vsrkit.degradations import get_degradation
    from vsrkit.io.frames import list_sequences, read_sequence
    from vsrkit.metrics import get_protocol
    from vsrkit.shared import shared_path
    from vsrkit.weights.convert import convert

    if args.model:
        model = create_model(args.model).eval()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            weights = Path(tmp) / "rlsp64.safetensors"
            convert("rlsp-tf", str(shared_path("weights", "rlsp_tf", "ckpt_rlsp_64")), weights)
            model = create_model("rlsp-7-64", weights=weights).eval()
    deg, prot = get_degradation(args.degradation), get_protocol("rlsp")
    configs = {"fp32": {"precision": "fp32"}, "bf16": {"precision": "bf16"}}
    scores: dict[str, list[float]] = {k: [] for k in configs}
    for seq in list_sequences(shared_path("data", "vid4", "GT")):
        lr, target = deg.pair(read_sequence(seq), 4)
        for label, cfg in configs.items():
            out = Upscaler(model, device="cpu", **cfg).upscale_clip(lr)
            scores[label].append(float(prot.score(out, target)["psnr"]))
        print(f"  {seq.name:9} " + "  ".join(f"{k} {v[-1]:.3f}" for k, v in scores.items()), flush=True)
    means = {k: sum(v) / len(v) for k, v in scores.items()}
    print("Vid4 mean Y-PSNR (RLSP protocol): " + ", ".join(f"{k} {v:.3f} dB" for k, v in means.items()))
    print(f"bf16 cost: {means['fp32'] - means['bf16']:.4f} dB (auto uses bf16 when <= 0.02 dB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="measure the bf16 cost on Vid4 instead")
    parser.add_argument("--model", help="--quality: a registered model with shipped weights instead")
    parser.add_argument("--degradation", default="gauss1.5", help="--quality: LR degradation")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--e2e-frames", type=int, default=200)
    parser.add_argument("--table-only", action="store_true", help="only the frames/s table (no ONNX, no mp4)")
    parser.add_argument("--e2e-only", action="store_true", help="only the end-to-end mp4 runs of the shipped models")
    parser.add_argument("--onnx-default-only", action="store_true",
                        help="only the shipped default: torch against its two exported ONNX graphs")
    args = parser.parse_args()
    if args.quality:
        quality(args)
    elif args.e2e_only:
        end_to_end_table(args)
    elif args.onnx_default_only:
        onnx_default(args)
    else:
        speed(args)


if __name__ == "__main__":
    sys.exit(main())
