"""``vsrkit analyze spectrum|per-frame|strf|temporal-profile|bake-srnl``: the MRVSR paper's analyses.

Each command writes a PNG (``--plot``) and JSON (``--json``). Models are given as a registered
name (fresh weights unless ``--weights``), or, where several are compared, as ``LABEL=SPEC`` or
``SPEC`` with SPEC a preset name or a vsrkit ``.safetensors`` file (its metadata names the model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from ..errors import InputError, VsrkitError
from ..io.jsonfile import write_json


def _write_json(path: Path, data: dict[str, Any]) -> None:
    if path.is_dir():
        raise InputError(path, "--json must be a file path, not a folder")
    write_json(path, data)


def _check_out(path: Path | None, option: str) -> None:
    if path is not None and path.is_dir():
        raise InputError(path, f"{option} must be a file path, not a folder")


def load_model_spec(spec: str, weights: Path | None = None):
    """A preset name (optionally with ``weights``) or a vsrkit safetensors file."""
    from ..models import create_model, list_models
    from ..weights.io import load_model

    if spec in list_models():
        return create_model(spec, weights=weights)
    path = Path(spec)
    if path.suffix == ".safetensors" or path.exists():
        if weights is not None:
            raise VsrkitError(f"{spec}: give either a weights file as the model or --weights, not both")
        return load_model(path)
    raise VsrkitError(f"unknown model {spec!r}: not a registered name nor a weights file")


def _labelled(specs: list[str]) -> list[tuple[str, str]]:
    out = []
    for s in specs:
        label, sep, spec = s.partition("=")
        if not sep:
            spec, label = s, Path(s).stem if s.endswith(".safetensors") else s
        out.append((label, spec))
    labels = [lab for lab, _ in out]
    if len(set(labels)) != len(labels):
        raise VsrkitError(f"duplicate model labels: {', '.join(labels)}; use LABEL=SPEC")
    return out


def register(app: typer.Typer) -> None:
    analyze = typer.Typer(help="Stability analyses of recurrent models (MRVSR paper figures).", no_args_is_help=True)
    app.add_typer(analyze, name="analyze")

    @analyze.command("spectrum")
    def spectrum_cmd(
        model: Annotated[str, typer.Option("--model", help="Registered model name or .safetensors file.")],
        weights: Annotated[Path | None, typer.Option("--weights", help="vsrkit .safetensors weights.")] = None,
        n: Annotated[int, typer.Option("--n", help="Circular-padding size n (the seed's figure uses 128).")] = 32,
        json_out: Annotated[Path | None, typer.Option("--json", help="Write the certificate JSON here.")] = None,
        plot: Annotated[Path | None, typer.Option("--plot", help="Write the singular-value plot (PNG) here.")] = None,
    ) -> None:
        """Exact singular values of every conv layer (Sedghi et al. FFT method, circular padding)."""
        from ..analysis.spectrum import plot_spectra, spectrum_report

        _check_out(json_out, "--json")
        _check_out(plot, "--plot")
        if n < 3:
            raise VsrkitError(f"--n must be at least the kernel size 3, got {n}")
        net = load_model_spec(model, weights)
        report, spectra = spectrum_report(net, n)
        report["weights"] = str(weights) if weights is not None else None
        for layer in report["layers"]:
            flag = " recurrent" if layer["recurrent"] else ""
            typer.echo(f"{layer['name']:<24} max sigma {layer['max_sigma']:.6f}{flag}")
        if report["recurrent_max_sigma"] is not None:
            typer.echo(f"recurrent max sigma: {report['recurrent_max_sigma']:.6f} (n={n})")
        if plot is not None:
            plot_spectra(spectra, plot, title=f"{report['model']}: singular values (n={n})")
            typer.echo(f"wrote {plot}")
        if json_out is not None:
            _write_json(json_out, report)
            typer.echo(f"wrote {json_out}")

    @analyze.command("bake-srnl")
    def bake_cmd(
        src: Annotated[Path, typer.Argument(help="vsrkit weights of a model trained with SRNL.")],
        dst: Annotated[Path, typer.Argument(help="Output .safetensors with plain, normalised weights.")],
        n: Annotated[int, typer.Option("--n", help="Size at which the exact norm is taken.")] = 128,
    ) -> None:
        """Fold SRNL into plain weights (exact norm at n), so inference needs no SRNL."""
        from ..analysis.spectrum import bake_srnl_file

        _, record = bake_srnl_file(src, dst, n)
        for name, sigma in record["sigma_before"].items():
            typer.echo(f"{name}: sigma {sigma:.6f} -> {record['sigma_after'][name]:.6f}")
        typer.echo(f"wrote {dst}")

    @analyze.command("per-frame")
    def per_frame_cmd(
        models: Annotated[list[str], typer.Option("--model", help="LABEL=SPEC or SPEC; repeat for each model.")],
        sources: Annotated[list[Path], typer.Option("--source", help="HR frame folder or video; repeatable.")],
        reference: Annotated[str | None, typer.Option("--reference", help="Label ΔPSNR is relative to (default: first model).")] = None,
        degradation: Annotated[str, typer.Option("--degradation")] = "mrvsr",
        protocol: Annotated[str, typer.Option("--protocol")] = "mrvsr",
        max_frames: Annotated[int | None, typer.Option("--max-frames", help="Use only the first N frames.")] = None,
        window: Annotated[int, typer.Option("--window", help="First/Last-N window of the summary.")] = 50,
        json_out: Annotated[Path | None, typer.Option("--json")] = None,
        plot: Annotated[Path | None, typer.Option("--plot")] = None,
        ylim: Annotated[tuple[float, float] | None, typer.Option("--ylim", help="Plot y range (the paper: -2.7 1.7).")] = None,
        device: Annotated[str, typer.Option("--device")] = "cpu",
    ) -> None:
        """Per-frame PSNR/SSIM of each model on long sequences, ΔPSNR to a reference (Fig. 3),
        and the First/All/Last-N summary (Table 1)."""
        from ..analysis.per_frame import delta_psnr, iter_source, per_frame_scores, plot_delta
        from ..degradations import get_degradation
        from ..metrics import get_protocol
        from ..metrics.long_sequence import long_sequence_summary, mean_summaries

        _check_out(json_out, "--json")
        _check_out(plot, "--plot")
        get_degradation(degradation)
        get_protocol(protocol)
        pairs = _labelled(models)
        ref = reference or pairs[0][0]
        if ref not in dict(pairs):
            raise VsrkitError(f"--reference {ref!r} is not one of the model labels {', '.join(dict(pairs))}")
        for src in sources:
            if not src.exists():
                raise InputError(src, "no such frame folder or video file")
        nets = {label: load_model_spec(spec) for label, spec in pairs}
        per_seq: dict[str, dict[str, Any]] = {}
        for src in sources:
            scores = {}
            for label, net in nets.items():
                scores[label] = per_frame_scores(net, iter_source(src), degradation=degradation,
                                                 protocol=protocol, device=device, max_frames=max_frames)
                typer.echo(f"{src.name} {label}: {len(scores[label])} frames, "
                           f"mean PSNR {sum(f['psnr'] for f in scores[label]) / len(scores[label]):.3f}")
            n_frames = len(next(iter(scores.values())))
            summaries = {}
            if n_frames >= window + 6:
                summaries = {lab: long_sequence_summary(s, n_frames, window=window) for lab, s in scores.items()}
            per_seq[src.name] = {"frames": scores, "summary": summaries,
                                 "delta_psnr": delta_psnr(scores, ref), "n_frames": n_frames}
        # Mean curve over sequences, truncated to the shortest (as the paper's Fig. 3 averages).
        shortest = min(s["n_frames"] for s in per_seq.values())
        mean_delta = {lab: [sum(s["delta_psnr"][lab][t] for s in per_seq.values()) / len(per_seq)
                            for t in range(shortest)] for lab in nets}
        table = {}
        if all(s["summary"] for s in per_seq.values()):
            table = {lab: mean_summaries([s["summary"][lab] for s in per_seq.values()]) for lab in nets}
            for lab, row in table.items():
                typer.echo(
                    f"{lab:<16} First-{window} {row['first']['psnr']:.2f}/{row['first']['ssim']:.4f}  "
                    f"All {row['all']['psnr']:.2f}/{row['all']['ssim']:.4f}  "
                    f"Last-{window} {row['last']['psnr']:.2f}/{row['last']['ssim']:.4f}  "
                    f"drift {row['drift']['psnr']:+.3f} dB"
                )
        if plot is not None:
            plot_delta(mean_delta, plot, reference=ref, ylim=ylim,
                       title=f"per-frame PSNR minus {ref}, mean over {len(per_seq)} sequence(s)")
            typer.echo(f"wrote {plot}")
        if json_out is not None:
            _write_json(json_out, {"reference": ref, "degradation": degradation, "protocol": protocol,
                                   "window": window, "models": {lab: spec for lab, spec in pairs},
                                   "table": table, "mean_delta_psnr": mean_delta, "sequences": per_seq})
            typer.echo(f"wrote {json_out}")

    @analyze.command("strf")
    def strf_cmd(
        model: Annotated[str, typer.Option("--model", help="Registered model name or .safetensors file.")],
        weights: Annotated[Path | None, typer.Option("--weights")] = None,
        iterations: Annotated[int, typer.Option("--iterations")] = 1500,
        tau: Annotated[int, typer.Option("--tau", help="Frames each side of the middle one.")] = 40,
        size: Annotated[int, typer.Option("--size", help="Input frame size (square).")] = 64,
        lr: Annotated[float, typer.Option("--lr")] = 1.0,
        mode: Annotated[str, typer.Option("--mode", help="strf (centre pixel) or trf (whole frame).")] = "strf",
        seed: Annotated[int, typer.Option("--seed")] = 0,
        json_out: Annotated[Path | None, typer.Option("--json")] = None,
        plot: Annotated[Path | None, typer.Option("--plot")] = None,
        device: Annotated[str, typer.Option("--device")] = "cpu",
    ) -> None:
        """Spatio-temporal receptive field by input optimisation (Fig. 7)."""
        from ..analysis.strf import STRFSettings, optimise_input, save_strf

        _check_out(json_out, "--json")
        _check_out(plot, "--plot")
        if mode not in ("strf", "trf"):
            raise VsrkitError(f"--mode must be strf or trf, got {mode!r}")
        if tau < 1 or size < 4 or iterations < 1:
            raise VsrkitError("--tau >= 1, --size >= 4 and --iterations >= 1 are required")
        net = load_model_spec(model, weights)
        settings = STRFSettings(tau=tau, size=size, iterations=iterations, lr=lr, mode=mode, seed=seed)  # type: ignore[arg-type]
        result = optimise_input(net, settings, device=device, log=typer.echo)
        path = Path(model)
        label = f"{path.parent.name}/{path.stem}" if path.suffix == ".safetensors" else model
        data = save_strf(result, plot, title=f"{label} {mode} tau={tau} {iterations} it")
        data.update({"model": model, "weights": str(weights) if weights else None, "settings": vars(settings)})
        if plot is not None:
            typer.echo(f"wrote {plot}")
        if json_out is not None:
            _write_json(json_out, data)
            typer.echo(f"wrote {json_out}")

    @analyze.command("temporal-profile")
    def temporal_profile_cmd(
        models: Annotated[list[str], typer.Option("--model", help="LABEL=SPEC or SPEC; repeatable.")],
        source: Annotated[Path, typer.Option("--source", help="HR frame folder or video.")],
        start: Annotated[int, typer.Option("--start", help="First frame of the profile (paper: 62).")] = 62,
        count: Annotated[int, typer.Option("--count", help="Frames in the profile (paper: 125).")] = 125,
        fraction: Annotated[float, typer.Option("--fraction", help="Left fraction of the row kept.")] = 0.25,
        degradation: Annotated[str, typer.Option("--degradation")] = "mrvsr",
        protocol: Annotated[str, typer.Option("--protocol")] = "mrvsr",
        json_out: Annotated[Path | None, typer.Option("--json")] = None,
        plot: Annotated[Path | None, typer.Option("--plot")] = None,
        device: Annotated[str, typer.Option("--device")] = "cpu",
    ) -> None:
        """Middle output row over time for each model, plus the ground truth (Fig. 8)."""
        from ..analysis.per_frame import iter_source, per_frame_scores
        from ..analysis.temporal_profile import ProfileCollector, profiles_report, save_profiles

        _check_out(json_out, "--json")
        _check_out(plot, "--plot")
        if not source.exists():
            raise InputError(source, "no such frame folder or video file")
        if start < 0 or count < 1 or not 0 < fraction <= 1:
            raise VsrkitError("--start >= 0, --count >= 1 and 0 < --fraction <= 1 are required")
        profiles = {}
        gt = None
        for label, spec in _labelled(models):
            hook = ProfileCollector(start, count, fraction)
            per_frame_scores(load_model_spec(spec), iter_source(source), degradation=degradation,
                             protocol=protocol, device=device, max_frames=start + count, on_output=hook)
            if not hook.rows:
                raise InputError(source, f"has no frames in {start}..{start + count - 1}")
            profiles[label] = hook.profile()
            gt = hook.target_rows
        profiles["GT"] = np.stack(gt)
        report = profiles_report(profiles, start)
        for name, stats in report["models"].items():
            typer.echo(f"{name:<16} temporal std {stats['temporal_std']:.3f}  drift {stats['drift']:.3f} (0-255 Y)")
        if plot is not None:
            save_profiles(profiles, plot, title=f"{source.name}: middle row, frames {start}..{start + count - 1}")
            typer.echo(f"wrote {plot}")
        if json_out is not None:
            _write_json(json_out, report)
            typer.echo(f"wrote {json_out}")
