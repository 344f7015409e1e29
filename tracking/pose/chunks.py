"""A video's poses, estimated in this process or split into chunks across worker processes.

MediaPipe runs on about one core whatever its thread settings, so a long video is estimated
faster by cutting it into consecutive chunks, one per core, each in its own process with its own
estimator. Each worker starts `overlap_s` before its chunk so that tracking and landmark smoothing
have settled when its chunk begins; those warm-up poses are dropped. The caller then runs the
engine once over the ordered poses.

Workers are plain subprocesses (`python -m tracking.pose.chunks`), not multiprocessing: Celery's
prefork workers are daemon processes, which multiprocessing forbids to have children.
"""

import json
import os
import pickle
import resource
import selectors
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from tracking.engine.pose import Pose
from tracking.pose.estimator import PoseEstimator
from tracking.pose.media import DEFAULT_LIMITS, MediaError, MediaLimits, iter_video_frames

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class StageTimer:
    """Seconds spent per named stage, accumulated."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def add(self, seconds: dict[str, float]) -> None:
        for name, value in seconds.items():
            self.seconds[name] += value


def estimate_frames(
    path: str | os.PathLike,
    estimator: PoseEstimator,
    *,
    analysis_fps: float,
    timer: StageTimer,
    start_frame: int = 0,
    stop_frame: int | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
) -> Iterator[tuple[np.ndarray, Pose]]:
    """(frame_bgr, pose) for each frame sampled from the video; decoding and colour conversion
    count as "decode", the estimator as "inference"."""
    frames = iter_video_frames(
        path,
        analysis_fps=analysis_fps,
        start_frame=start_frame,
        stop_frame=stop_frame,
        limits=limits,
    )
    while True:
        with timer.stage("decode"):
            item = next(frames, None)
            if item is None:
                return
            frame, timestamp_ms, index = item
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        with timer.stage("inference"):
            pose = estimator.estimate(rgb, timestamp_ms, index)
        yield frame, pose


@dataclass(frozen=True)
class Chunk:
    """Source frames [start_frame, stop_frame) to keep, decoded from warmup_frame on."""

    start_frame: int
    stop_frame: int | None
    warmup_frame: int


def split_frames(frame_count: int, parts: int, *, overlap_frames: int) -> list[Chunk]:
    """`parts` consecutive chunks of about equal length; the last one runs to the end, whatever
    the container's frame count says."""
    starts = [round(frame_count * i / parts) for i in range(parts)]
    stops = [*starts[1:], None]
    return [
        Chunk(start, stop, warmup_frame=max(0, start - overlap_frames))
        for start, stop in zip(starts, stops, strict=True)
    ]


@dataclass
class ChunkResult:
    poses: list[Pose]
    stage_seconds: dict[str, float]
    peak_rss_mb: float
    error: tuple[str, str] | None = None  # a MediaError's (code, message)


def estimate_in_workers(
    path: str | os.PathLike,
    chunks: list[Chunk],
    *,
    model: str,
    analysis_fps: float,
    limits: MediaLimits = DEFAULT_LIMITS,
    on_frames: Callable[[int], None] | None = None,
) -> list[ChunkResult]:
    """Each chunk's result, in chunk order, from one worker process per chunk (run at once).

    on_frames(n) is called with the total number of frames estimated so far, as it grows.
    """
    with tempfile.TemporaryDirectory(prefix="formtrack-chunks-") as workdir:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")])
            ),
        }
        workers = []
        selector = selectors.DefaultSelector()
        for number, chunk in enumerate(chunks):
            output = Path(workdir) / f"chunk-{number}.pickle"
            log = (Path(workdir) / f"chunk-{number}.log").open("w+")
            job = {
                "path": str(Path(path).resolve()),
                "chunk": asdict(chunk),
                "model": model,
                "analysis_fps": analysis_fps,
                "limits": asdict(limits),
                "output": str(output),
            }
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "tracking.pose.chunks", json.dumps(job)],
                stdout=subprocess.PIPE,
                stderr=log,  # MediaPipe logs a lot; a file cannot fill up and block the worker
                text=True,
                env=env,
            )
            workers.append((process, output, log))
            selector.register(process.stdout, selectors.EVENT_READ, number)
        try:
            frames_done = [0] * len(chunks)
            open_pipes = len(chunks)
            while open_pipes:
                for key, _ in selector.select():
                    line = key.fileobj.readline()
                    if not line:
                        selector.unregister(key.fileobj)
                        open_pipes -= 1
                        continue
                    if line.startswith("frames "):
                        frames_done[key.data] = int(line.split()[1])
                    if on_frames is not None:
                        on_frames(sum(frames_done))
            return [_collect(*worker) for worker in workers]
        finally:
            for process, _, log in workers:
                if process.poll() is None:
                    process.kill()
                process.wait()
                process.stdout.close()
                log.close()


def _collect(process: subprocess.Popen, output: Path, log) -> ChunkResult:
    if process.wait() != 0:
        log.seek(0)
        tail = log.read()[-2000:]
        raise RuntimeError(f"pose worker exited with status {process.returncode}:\n{tail}")
    with output.open("rb") as stream:
        result = pickle.load(stream)  # noqa: S301 - written by our own worker just now
    if result.error is not None:
        raise MediaError(*result.error)
    return result


def _run_job(job: dict) -> ChunkResult:
    chunk = Chunk(**job["chunk"])
    timer = StageTimer()
    poses = []
    try:
        with PoseEstimator(job["model"], "video") as estimator:
            for _, pose in estimate_frames(
                job["path"],
                estimator,
                analysis_fps=job["analysis_fps"],
                timer=timer,
                start_frame=chunk.warmup_frame,
                stop_frame=chunk.stop_frame,
                limits=MediaLimits(**job["limits"]),
            ):
                if pose.frame_id >= chunk.start_frame:
                    poses.append(pose)
                    print("frames", len(poses), flush=True)
        error = None
    except MediaError as media_error:
        error = (media_error.code, media_error.message)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return ChunkResult(poses, dict(timer.seconds), peak_rss_mb, error)


def main() -> None:
    job = json.loads(sys.argv[1])
    result = _run_job(job)
    with open(job["output"], "wb") as stream:
        pickle.dump(result, stream, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
