"""A video's poses, estimated in this process or split into chunks across worker processes.

MediaPipe runs on about one core whatever its thread settings, so a long video is estimated
faster by cutting it into consecutive chunks: the calling process estimates the first one itself
while worker processes, each with its own estimator, take the others. Each worker starts a little
before its chunk so that tracking and landmark smoothing have settled when its chunk begins;
those warm-up poses are dropped. The caller then runs the engine once over the ordered poses.

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
from typing import IO

import cv2
import numpy as np

from tracking.engine.pose import Pose
from tracking.pose.estimator import PoseEstimator
from tracking.pose.media import DEFAULT_LIMITS, MediaError, MediaLimits, iter_video_frames

_PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Seconds from starting a worker to its first estimated frame (Python, cv2 and mediapipe
# imports, estimator creation), and seconds to decode and estimate one 720p frame on one core
# while the other is busy too: measured on a 2-core machine, used to balance chunks.
WORKER_STARTUP_S = 0.9
FRAME_SECONDS = {"lite": 0.020, "full": 0.024, "heavy": 0.061}


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started or since reset_peak_rss()."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    # Elsewhere: includes what the process used before exec, e.g. a forking parent's peak.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Restart peak_rss_mb() from the current size (Linux; elsewhere nothing happens)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


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


def split_frames(
    frame_count: int, parts: int, *, overlap_frames: int, head_start_frames: int = 0
) -> list[Chunk]:
    """`parts` consecutive chunks of the video that take about as long each to estimate.

    Chunks after the first also estimate overlap_frames of warm-up, and their workers need time
    to start: the first chunk, estimated by the caller's process while they start, is longer by
    both (head_start_frames being the frames it estimates in a worker's start-up time). The last
    chunk runs to the end, whatever the container's frame count says.
    """
    length = (frame_count - overlap_frames - head_start_frames) / parts
    first = frame_count - (parts - 1) * length
    starts = [0, *(round(first + i * length) for i in range(parts - 1))]
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


class ChunkWorkers:
    """One worker process per chunk of a video, all started at once."""

    def __init__(
        self,
        path: str | os.PathLike,
        chunks: list[Chunk],
        *,
        model: str,
        analysis_fps: float,
        limits: MediaLimits = DEFAULT_LIMITS,
    ):
        self._workdir = tempfile.TemporaryDirectory(prefix="formtrack-chunks-")
        self._selector = selectors.DefaultSelector()
        self._workers: list[tuple[subprocess.Popen, Path, IO[str]]] = []
        self._frames_done = [0] * len(chunks)
        self._partial_lines = [b""] * len(chunks)
        python_path = [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, python_path))}
        try:
            for number, chunk in enumerate(chunks):
                output = Path(self._workdir.name) / f"chunk-{number}.pickle"
                # MediaPipe logs a lot to stderr: a file cannot fill up and block the worker.
                log = (Path(self._workdir.name) / f"chunk-{number}.log").open("w+")
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
                    stderr=log,
                    env=env,
                )
                self._workers.append((process, output, log))
                self._selector.register(process.stdout, selectors.EVENT_READ, number)
        except BaseException:
            self.close()
            raise

    def frames_done(self, timeout: float = 0.0) -> int:
        """Frames estimated so far by all workers, after waiting up to timeout for news."""
        if self._selector.get_map():
            for key, _ in self._selector.select(timeout):
                data = os.read(key.fd, 65536)
                if not data:
                    self._selector.unregister(key.fileobj)
                    continue
                *lines, self._partial_lines[key.data] = (
                    self._partial_lines[key.data] + data
                ).split(b"\n")
                if lines:
                    self._frames_done[key.data] = int(lines[-1])
        return sum(self._frames_done)

    def results(self, on_frames: Callable[[int], None] | None = None) -> list[ChunkResult]:
        """Each chunk's result in chunk order, once all workers are done; on_frames(n) hears
        the total number of frames estimated as it grows."""
        while self._selector.get_map():
            done = self.frames_done(timeout=1.0)
            if on_frames is not None:
                on_frames(done)
        return [_collect(*worker) for worker in self._workers]

    def close(self) -> None:
        for process, _, log in self._workers:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
            log.close()
        self._selector.close()
        self._workdir.cleanup()

    def __enter__(self) -> "ChunkWorkers":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _collect(process: subprocess.Popen, output: Path, log: IO[str]) -> ChunkResult:
    if process.wait() != 0:
        log.seek(0)
        tail = log.read()[-2000:]
        raise RuntimeError(f"pose worker exited with status {process.returncode}:\n{tail}")
    with output.open("rb") as stream:
        result = ChunkResult(**pickle.load(stream))  # noqa: S301 - our own worker wrote it
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
                    # Progress, a line per frame. Should the parent die, this write fails
                    # (broken pipe) and the worker ends with it.
                    print(len(poses), flush=True)
        error = None
    except MediaError as media_error:
        error = (media_error.code, media_error.message)
    return ChunkResult(poses, dict(timer.seconds), peak_rss_mb(), error)


def main() -> None:
    job = json.loads(sys.argv[1])
    result = _run_job(job)
    # A plain dict: this module runs as __main__ here, so its classes would not unpickle.
    with open(job["output"], "wb") as stream:
        pickle.dump(vars(result), stream, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    main()
