"""MRVSR stability study (issue 5, item 7): Table 1, the Fig. 3 curve and the SRNL certificate in one command.

    python scripts/mrvsr_study.py [--runs runs/mrvsr_study] [--frames 1000] [--out docs/mrvsr]

Expects the four runs of ``configs/mrvsr_study/*.yaml`` (``vsrkit train`` each). Then:

1. bakes SRNL into the MRVSR+SRNL weights (``OUT/mrvsr_srnl.safetensors``) and certifies the
   recurrent layers with the exact FFT spectrum;
2. builds three quasi-static sequences in memory (:mod:`vsrkit.data.quasistatic`: OU jitter and
   Poisson-Gaussian noise) from stills that are not in the training corpus;
3. scores every model on every frame (degradation and protocol ``mrvsr``), aggregates First-50 /
   All / Last-50 as the official script slices them, and plots the mean ΔPSNR against RFS3;
4. scores Vid4 (``mrvsr`` degradation and protocol), and each recurrent model with its recurrence cut
   (every frame run alone), which shows how much of its quality comes from the state.

``--extra LABEL=WEIGHTS`` adds other models to every table, e.g. the official RLSP 7-64 converted
with ``vsrkit convert --from rlsp-tf`` (trained by its authors for σ = 1.5 Gaussian blur, the same
blur as the ``mrvsr`` degradation). Writes ``OUT/table.json`` and ``OUT/per_frame.png`` and prints the Markdown table of docs/mrvsr.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from vsrkit.analysis.per_frame import delta_psnr, per_frame_scores, plot_delta
from vsrkit.analysis.spectrum import bake_srnl_file, spectrum_report
from vsrkit.data.quasistatic import QuasiStaticParams, load_scene, quasistatic_frames
from vsrkit.engine.evaluate import evaluate, run_frames_alone
from vsrkit.io.jsonfile import write_json
from vsrkit.metrics.long_sequence import long_sequence_summary, mean_summaries
from vsrkit.models.base import StreamingVSRModel, VSRModel
from vsrkit.shared import shared_path
from vsrkit.weights.io import load_model

# label -> run folder name; RFS3 is the reference of the ΔPSNR curve, as in the paper's Fig. 3.
MODELS = {"RFS3": "rfs3", "RLSP": "rlsp", "MRVSR, unconstrained": "mrvsr_free", "MRVSR + SRNL": "mrvsr_srnl"}
REFERENCE = "RFS3"
# Stills for the quasi-static sequences: none is in the training corpus (data/corpus.py);
# Vid4 is a test set, used here only for testing.
STILLS = {
    "street": (("data", "lr_only", "realworld_street", "00000015.png"), 1),
    "reds": (("data", "lr_only", "reds_000", "00000010.png"), 2),
    "calendar": (("data", "vid4", "GT", "calendar", "Frame 020.png"), 3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default="runs/mrvsr_study")
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--out", default="docs/mrvsr")
    parser.add_argument("--size", type=int, nargs=2, default=(224, 320), metavar=("H", "W"),
                        help="largest scored HR frame (multiples of 32)")
    parser.add_argument("--spectrum-n", type=int, default=64)
    parser.add_argument("--ylim", type=float, nargs=2, metavar=("LO", "HI"),
                        help="ΔPSNR plot range (the paper's Fig. 3: -2.7 1.7); default: the data's")
    parser.add_argument("--extra", action="append", default=[], metavar="LABEL=WEIGHTS",
                        help="another model to score alongside, e.g. a converted official checkpoint")
    args = parser.parse_args()
    runs, out = Path(args.runs), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    for run in MODELS.values():
        path = runs / run / "final.safetensors"
        if not path.exists():
            raise SystemExit(f"{path}: missing; train it with vsrkit train configs/mrvsr_study/{run}.yaml")
    baked_path = out / "mrvsr_srnl.safetensors"
    # The SRNL model is scored as it ships: baked, so the certificate below is that of the scored weights.
    baked, record = bake_srnl_file(runs / "mrvsr_srnl" / "final.safetensors", baked_path, args.spectrum_n)
    certificate = record["sigma_after"]
    models: dict[str, VSRModel] = {
        label: baked if run == "mrvsr_srnl" else load_model(runs / run / "final.safetensors").eval()
        for label, run in MODELS.items()
    }
    print(f"baked {baked_path}: recurrent max sigma {certificate} (exact, n={args.spectrum_n})")
    free_report, _ = spectrum_report(models["MRVSR, unconstrained"], args.spectrum_n)
    free_sigmas = {layer["name"]: layer["max_sigma"] for layer in free_report["layers"] if layer["recurrent"]}
    print(f"unconstrained MRVSR: recurrent max sigma {free_sigmas}")
    for item in args.extra:
        label, sep, path = item.partition("=")
        if not sep or label in models:
            raise SystemExit(f"--extra {item!r}: expected a new LABEL=WEIGHTS")
        models[label] = load_model(path).eval()

    sequences: dict[str, Any] = {}
    for name, (parts, seed) in STILLS.items():
        still = shared_path(*parts)
        scene = load_scene(still)
        h, w = scene.shape[-2:]
        # The protocol crops 6 px and then to multiples of 32; the centre crop keeps the scored frame
        # at most --size, which bounds the cost (4 models x 3 sequences x --frames steps).
        max_h, max_w = args.size
        scene = load_scene(still, crop=(min((h - 12) // 32 * 32, max_h) + 12, min((w - 12) // 32 * 32, max_w) + 12))
        params = QuasiStaticParams(frames=args.frames, seed=seed)
        scores = {}
        for label, model in models.items():
            t0 = time.perf_counter()
            scores[label] = per_frame_scores(model, quasistatic_frames(scene, params))
            print(f"{name} {label}: {len(scores[label])} frames in {time.perf_counter() - t0:.0f} s")
        summaries = {lab: long_sequence_summary(s, args.frames) for lab, s in scores.items()}
        sequences[name] = {"still": str(Path(*parts)), "size": list(scene.shape[-2:]), "seed": seed,
                           "summary": summaries, "delta_psnr": delta_psnr(scores, REFERENCE), "frames": scores}
    table = {lab: mean_summaries([s["summary"][lab] for s in sequences.values()]) for lab in models}
    mean_delta = {lab: [sum(s["delta_psnr"][lab][t] for s in sequences.values()) / len(sequences)
                        for t in range(args.frames)] for lab in models}
    plot_delta(mean_delta, out / "per_frame.png", reference=REFERENCE, ylim=args.ylim,
               title=f"per-frame PSNR minus {REFERENCE}, mean over {len(sequences)} quasi-static sequences")

    vid4 = shared_path("data", "vid4", "GT")
    vid4_scores: dict[str, Any] = {}
    for label, model in models.items():
        row = {"recurrent": evaluate(model, vid4, degradation="mrvsr", protocol="mrvsr")["mean"]}
        if isinstance(model, StreamingVSRModel) and model.kind == "recurrent":
            row["frames_alone"] = evaluate(model, vid4, degradation="mrvsr", protocol="mrvsr", run=run_frames_alone)["mean"]
        vid4_scores[label] = row
    write_json(out / "table.json", {
        "frames": args.frames, "reference": REFERENCE, "runs": {lab: str(runs / r) for lab, r in MODELS.items()},
        "extra": args.extra,
        "certificate": {"n": args.spectrum_n, "mrvsr_srnl": certificate, "mrvsr_free": free_sigmas},
        "table": table, "vid4": vid4_scores,
        "per_sequence": {n: {"still": s["still"], "size": s["size"], "seed": s["seed"], "summary": s["summary"]}
                         for n, s in sequences.items()},
        "mean_delta_psnr": mean_delta,
    })

    print("\n| model | First-50 PSNR / SSIM | All | Last-50 | Last − First (dB) | Vid4 PSNR / SSIM | Vid4, frames alone |")
    print("|---|---|---|---|---|---|---|")
    for lab, row in table.items():
        v = vid4_scores[lab]
        alone = v.get("frames_alone")
        alone_txt = f"{alone['psnr']:.2f} / {alone['ssim']:.4f}" if alone else "(feed-forward)"
        print(f"| {lab} | {row['first']['psnr']:.2f} / {row['first']['ssim']:.4f} | "
              f"{row['all']['psnr']:.2f} / {row['all']['ssim']:.4f} | {row['last']['psnr']:.2f} / {row['last']['ssim']:.4f} | "
              f"{row['drift']['psnr']:+.3f} | {v['recurrent']['psnr']:.2f} / {v['recurrent']['ssim']:.4f} | {alone_txt} |")
    print("\nper sequence, Last − First (dB):")
    for name, s in sequences.items():
        print(f"  {name} {tuple(s['size'])}: " + ", ".join(f"{lab} {s['summary'][lab]['drift']['psnr']:+.3f}" for lab in models))
    print(f"wrote {out / 'table.json'}, {out / 'per_frame.png'}, {baked_path}")


if __name__ == "__main__":
    main()
