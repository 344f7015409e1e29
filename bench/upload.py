"""Upload analysis speed: a 60 s, 720p, 30 fps video made from the real clips, through analyze_file.

Prints the real-time factor (video seconds per wall second), frames per second, time per stage
(elapsed and CPU), the real-time factor the CPU spent allows on idle cores, the inference-bound
ceiling and peak memory, in one process and split across worker processes (one per core), these
started for the video and then kept from the previous one.
Target on a 2-core machine: at least 10x real time at 15 fps analysis with the workers kept
(PoseTracker analyses uploads at about 1x).

    .venv/bin/python bench/upload.py [--workers 1 2] [--kept-runs 3] [--export] [--unplayable]
                                     [--model lite]
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.clips import CURL_CLIP, SQUAT_CLIP, clip_frames, reencoded_clip  # noqa: E402
from tracking.params import parse_tracking_params  # noqa: E402
from tracking.pose.pipeline import analyze_file  # noqa: E402
from tracking.pose.render import AnnotatedVideoWriter  # noqa: E402

SIZE = (1280, 720)
FPS = 30.0


def to_canvas(frame: np.ndarray) -> np.ndarray:
    """The frame scaled to 720 px high and centred on a 1280×720 canvas."""
    height, width = frame.shape[:2]
    scaled = cv2.resize(frame, (round(width * SIZE[1] / height), SIZE[1]), cv2.INTER_CUBIC)
    canvas = np.full((SIZE[1], SIZE[0], 3), 40, np.uint8)
    left = (SIZE[0] - scaled.shape[1]) // 2
    canvas[:, left : left + scaled.shape[1]] = scaled
    return canvas


def make_video(path: Path, seconds: float) -> None:
    """The clips one after the other, looped, at 30 fps: in-between frames are blends of their
    neighbours, so that every frame differs as in a real recording."""
    clips = [clip_frames(clip) for clip in (SQUAT_CLIP, CURL_CLIP)]
    total = round(seconds * FPS)
    written = 0
    with AnnotatedVideoWriter(path, fps=FPS, size=SIZE) as writer:
        while written < total:
            for frames, fps in clips:
                for k in range(round(len(frames) * FPS / fps)):
                    if written == total:
                        return
                    position = k * fps / FPS
                    i = int(position)
                    j = min(i + 1, len(frames) - 1)
                    weight = position - i
                    blend = cv2.addWeighted(frames[i], 1 - weight, frames[j], weight, 0)
                    writer.write(to_canvas(blend))
                    written += 1


def cpu_seconds() -> float:
    """CPU time of this process and its children: the finished ones and the running ones (the
    worker processes kept between videos)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    finished = resource.getrusage(resource.RUSAGE_CHILDREN)
    running_ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():  # its parent; then utime and stime, in clock ticks
            running_ticks += int(fields[11]) + int(fields[12])
    return (
        own.ru_utime
        + own.ru_stime
        + finished.ru_utime
        + finished.ru_stime
        + running_ticks / os.sysconf("SC_CLK_TCK")
    )


def report(label: str, result, wall_s: float, cpu_s: float) -> None:
    stats = result.stats
    stages, stages_cpu = stats["stages_s"], stats["stages_cpu_s"]
    busy = sum(stages.values())
    frames = max(1, stats["frames_analyzed"])
    cores = len(os.sched_getaffinity(0))
    analysed_fps = stats["frames_analyzed"] / stats["duration_s"]
    print(f"\n{label}")
    print(
        f"  {stats['duration_s']:.1f} s of video in {wall_s:.2f} s: "
        f"{stats['duration_s'] / wall_s:.2f}x real time, "
        f"{stats['frames_analyzed'] / wall_s:.1f} analysed frames/s "
        f"({stats['frames_analyzed']} frames, {stats['workers']} process(es) estimating)"
    )
    print("  stage      elapsed  share of busy time  per frame   CPU per frame")
    # preview: the wait for the preview's encoder after the analysis (its CPU is in the total).
    names = (
        "decode",
        "inference",
        "engine",
        "storage",
        *(["preview"] if "preview" in stages else []),
    )
    for name in names:
        seconds = stages.get(name, 0.0)
        print(
            f"  {name:<9} {seconds:6.2f} s  {100 * seconds / busy:5.1f}%"
            f"  {1000 * seconds / frames:16.2f} ms"
            f"  {1000 * stages_cpu.get(name, 0.0) / frames:9.2f} ms"
        )
    other = 1 - stages.get("inference", 0.0) / busy
    print(f"  everything but inference: {100 * other:.1f}% of busy time")
    print(
        f"  CPU {cpu_s:.2f} s, {1000 * cpu_s / frames:.1f} ms per analysed frame: "
        f"{cpu_s / wall_s:.2f} of {cores} cores busy on average "
        "(less than the processes running means others use this machine)"
    )
    # Load-independent: what the CPU this analysis took (start-up, imports and the hand-over
    # between processes included) allows when nothing else runs on the machine's cores.
    print(
        f"  on {cores} otherwise idle cores this CPU allows "
        f"{stats['duration_s'] * cores / cpu_s:.2f}x real time"
    )
    # The inference-bound ceiling: what this machine allows at this inference cost if nothing
    # else took any time and every core estimated poses without pause.
    inference_ms = 1000 * stages_cpu.get("inference", 0.0) / frames
    if inference_ms:
        ceiling = cores * 1000 / inference_ms / analysed_fps
        print(
            f"  inference-bound ceiling at {inference_ms:.1f} ms of inference CPU per frame on "
            f"{cores} cores: {ceiling:.2f}x real time"
        )
    print(f"  peak RSS: this process {stats['peak_rss_mb']:.0f} MB", end="")
    if "workers_peak_rss_mb" in stats:
        print(f", workers {stats['workers_peak_rss_mb']} MB", end="")
    print()
    if "export_codec" in stats:
        print(f"  export codec: {stats['export_codec']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--analysis-fps", type=float, default=15.0)
    parser.add_argument("--model", default="lite", choices=["lite", "full", "heavy"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, len(os.sched_getaffinity(0))])
    parser.add_argument("--export", action="store_true", help="also write the annotated MP4")
    parser.add_argument(
        "--unplayable",
        action="store_true",
        help="the video in MPEG-4 part 2, which browsers do not play: the service encodes an "
        "H.264 preview beside the analysis (a browser-playable H.264 MP4 gets none)",
    )
    parser.add_argument(
        "--kept-runs",
        type=int,
        default=3,
        help="runs with the worker processes kept (their median is the figure: others' work on "
        "the machine makes single runs noisy)",
    )
    args = parser.parse_args()

    params = parse_tracking_params(
        f"token=bench&source=video&exercise=squat&mediapipeModel={args.model}", endpoint="upload"
    )
    with tempfile.TemporaryDirectory(prefix="formtrack-bench-") as workdir:
        video = Path(workdir) / "upload.mp4"
        started = time.perf_counter()
        make_video(video, args.seconds)
        if args.unplayable:
            # As an older phone or camera records it, in a codec browsers do not play.
            video = reencoded_clip(video, video.with_name("upload-mpeg4.mp4"), "-c:v", "mpeg4")
        print(
            f"made {video.name}: {args.seconds:.0f} s, {SIZE[0]}x{SIZE[1]}, {FPS:.0f} fps, "
            f"{video.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
        )
        for workers in dict.fromkeys(args.workers):
            # With worker processes, a first video waits for them to start; the next ones find
            # them waiting, as in a Celery worker that has analysed a video or warmed them up.
            kept_factors = []
            for kept in [False, *[True] * args.kept_runs] if workers > 1 else [False]:
                export = Path(workdir) / f"annotated-{workers}.mp4" if args.export else None
                started, cpu_started = time.perf_counter(), cpu_seconds()
                result = analyze_file(
                    video,
                    params=params,
                    analysis_fps=args.analysis_fps,
                    workers=workers,
                    export_path=export,
                    # Stored for every video by the service, as the pose timeline of the replay.
                    timeline_path=Path(workdir) / "timeline.json",
                    # Passed for every video without export, as the service does: encoded only
                    # when browsers do not play the original.
                    preview_path=None if export else Path(workdir) / "preview.mp4",
                )
                wall_s, cpu_s = time.perf_counter() - started, cpu_seconds() - cpu_started
                label = f"{args.model} model, {args.analysis_fps:g} fps analysis, workers={workers}"
                if workers > 1:
                    label += (
                        ", worker processes kept from the previous video"
                        if kept
                        else ", worker processes started for this video"
                    )
                label += ", with export" if export else ""
                label += ", MPEG-4 part 2 with its preview" if args.unplayable else ""
                report(label, result, wall_s, cpu_s)
                if kept:
                    kept_factors.append(result.stats["duration_s"] / wall_s)
            if kept_factors:
                print(
                    f"\nworkers={workers}, worker processes kept: median of {len(kept_factors)} "
                    f"runs {statistics.median(kept_factors):.2f}x real time "
                    f"({', '.join(f'{factor:.2f}' for factor in kept_factors)}; load average "
                    f"{os.getloadavg()[0]:.2f})"
                )


if __name__ == "__main__":
    main()
