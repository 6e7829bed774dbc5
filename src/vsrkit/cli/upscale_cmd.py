"""``vsrkit upscale INPUT OUTPUT``: a video file or frame folder in, a video file or frame folder out."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer


def _interrupt_on_sigterm() -> None:
    # SIGTERM would otherwise kill the process without cleanup; as KeyboardInterrupt the upscaler
    # removes its temporary output like on Ctrl-C.
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. inside a test runner thread)
        pass


def register(app: typer.Typer) -> None:
    @app.command("upscale")
    def upscale(
        input: Annotated[Path, typer.Argument(help="Video file (any format FFmpeg reads) or folder of frames.")],
        output: Annotated[Path, typer.Argument(help="Video file (.mp4, .mkv, ...) or folder for PNG frames.")],
        model: Annotated[
            str | None, typer.Option(help="Registered model name (default: 'default' if present, else bicubic).")
        ] = None,
        weights: Annotated[Path | None, typer.Option(help="Weights (.safetensors) for --model.")] = None,
        device: Annotated[str, typer.Option(help="auto, cpu or an accelerator device such as cuda:0.")] = "auto",
        precision: Annotated[str, typer.Option(help="auto, fp32, bf16 or fp16.")] = "auto",
        tile: Annotated[int, typer.Option(help="Spatial tile size in input pixels (0: whole frame).")] = 0,
        tile_overlap: Annotated[int, typer.Option(help="Context input pixels around each tile.")] = 32,
        chunk: Annotated[int, typer.Option(help="Frames per temporal chunk (bidirectional models).")] = 16,
        warmup: Annotated[
            int | None, typer.Option(help="Context frames on each side of a chunk (default: the model's).")
        ] = None,
        self_ensemble: Annotated[
            int, typer.Option(help="Average over 1, 2, 4 or 8 flipped/transposed views (that many times slower).")
        ] = 1,
        codec: Annotated[str | None, typer.Option(help="Video encoder (default libx264; libx265 for input deeper than 8 bits into .mp4/.mov/.mkv; VP9 for .webm).")] = None,
        crf: Annotated[int | None, typer.Option(help="Encoder quality (x264/x265 CRF, default 18).")] = None,
        preset: Annotated[
            str | None, typer.Option(help="x264/x265 speed preset (default veryfast; superfast is faster, larger files).")
        ] = None,
        scale: Annotated[
            float | None,
            typer.Option(help="Output size as a multiple of the input's (default: the model's, 4). The model's "
                              "output is resized to it: antialiased bicubic below 4, bicubic above."),
        ] = None,
        size: Annotated[
            str | None, typer.Option(help="Exact output size WIDTHxHEIGHT as displayed (phone rotation applied), e.g. 1920x1080; "
                                 "-1 keeps the aspect ratio.")
        ] = None,
        deinterlace: Annotated[
            bool | None,
            typer.Option("--deinterlace/--no-deinterlace",
                         help="Deinterlace (FFmpeg bwdif) before upscaling; default: when the video is interlaced."),
        ] = None,
        start: Annotated[
            str | None, typer.Option(help="Start here (seconds or [HH:]MM:SS): with --duration, a preview of a part.")
        ] = None,
        duration: Annotated[str | None, typer.Option(help="Upscale this long only (seconds or [HH:]MM:SS).")] = None,
        scene_cuts: Annotated[
            bool,
            typer.Option("--scene-cuts/--no-scene-cuts",
                         help="Run each shot as a clip of its own, so no model state crosses a cut (the default)."),
        ] = True,
        resume: Annotated[
            bool,
            typer.Option("--resume/--no-resume",
                         help="Continue a run over the same output that was interrupted (the default), "
                              "or discard what it kept and start over."),
        ] = True,
        no_audio: Annotated[bool, typer.Option("--no-audio", help="Leave the input's audio out.")] = False,
        no_subtitles: Annotated[
            bool, typer.Option("--no-subtitles", help="Leave the input's subtitles out (e.g. picture subtitles MP4 cannot hold).")
        ] = False,
        fps: Annotated[float, typer.Option(help="Frame rate for frame-folder input.")] = 25.0,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
    ) -> None:
        """Upscale a video, keeping audio, subtitles, chapters, timestamps, colours and HDR10 metadata; interlaced
        input is deinterlaced. Interrupted (Ctrl-C), the same command continues where it stopped."""
        from ..engine.upscaler import Interrupted, Upscaler, parse_size, parse_time

        target = parse_size(size) if size is not None else None
        _interrupt_on_sigterm()
        upscaler = Upscaler(
            model, weights=weights, device=device, precision=precision, tile=tile, tile_overlap=tile_overlap,
            chunk=chunk, warmup=warmup, self_ensemble=self_ensemble, scene_cuts=scene_cuts,
        )
        if upscaler.precision_warning:
            # Said before the run too: it is the reason a long run is slow.
            typer.echo(f"warning: {upscaler.precision_warning}", err=True)
        try:
            summary = upscaler.upscale(
                input, output, codec=codec, crf=crf, preset=preset, fps=fps, progress=False if quiet else None,
                scale=scale, size=target, deinterlace=deinterlace,
                start=parse_time(start, "--start") if start is not None else 0.0,
                duration=parse_time(duration, "--duration") if duration is not None else None,
                resume=resume, leave_out=[kind for kind, out in (("audio", no_audio), ("subtitle", no_subtitles)) if out],
            )
        except Interrupted as stop:
            typer.echo(stop.message(), err=True)
            raise typer.Exit(130) from None
        if not quiet:
            typer.echo(summary.line())
        # Even with --quiet: a dropped rotation or font is never silent.
        for warning in summary.warnings:
            typer.echo(f"warning: {warning}", err=True)
