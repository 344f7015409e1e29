"""A video's poses, estimated in this process or split into chunks across worker processes.

MediaPipe runs on about one core whatever its thread settings, so a long video is estimated
faster by cutting it into consecutive chunks: the calling process estimates the first one itself
while worker processes, each with its own estimator, take the others. Each worker starts a little
before its chunk so that tracking and landmark smoothing have settled when its chunk begins;
those warm-up poses are dropped. The caller then runs the engine once over the ordered poses.

Workers are plain subprocesses (`python -m tracking.pose.chunks`), not multiprocessing: Celery's
prefork workers are daemon processes, which multiprocessing forbids to have children. They are
kept between videos, so only the first video after a start waits for their imports.
"""

import atexit
import ctypes
import json
import os
import pickle
import resource
import selectors
import subprocess
import sys
import tempfile
import threading
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
# Seconds the calling process estimates alone before a kept worker estimates its first frame (it
# is given its job, creates its estimator and seeks), and seconds to decode and estimate one 720p
# frame on one core while the other is busy too: measured on a 2-core machine, used to balance
# chunks. Constants, whatever the workers' state: chunk boundaries, and so the results, must not
# depend on timing (a video analysed again gives the same events). A worker started for the
# video also imports for about 0.7 s, which only its first video waits for.
WORKER_HEAD_START_S = 0.2
FRAME_SECONDS = {"lite": 0.011, "full": 0.015, "heavy": 0.048}


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
    """Seconds spent per named stage, accumulated: elapsed (`seconds`) and this process's CPU
    time (`cpu_seconds`, all its threads: MediaPipe's graph runs in its own). On a machine busy
    with other work elapsed time grows and CPU time hardly does."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu_seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(self, name: str):
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.cpu_seconds[name] += time.process_time() - cpu_started

    def add(self, seconds: dict[str, float], cpu_seconds: dict[str, float]) -> None:
        for name, value in seconds.items():
            self.seconds[name] += value
        for name, value in cpu_seconds.items():
            self.cpu_seconds[name] += value


def estimate_frames(
    path: str | os.PathLike,
    estimator: PoseEstimator,
    *,
    analysis_fps: float,
    timer: StageTimer,
    start_frame: int = 0,
    stop_frame: int | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
    shared_cores: bool = False,
) -> Iterator[tuple[np.ndarray, Pose]]:
    """(frame_bgr, pose) for each frame sampled from the video; decoding and colour conversion
    count as "decode", the estimator as "inference".

    shared_cores: other processes are estimating on the other cores. FFmpeg's decoding threads
    would then only take turns with inference; one thread is faster overall (a 60 s 720p video
    on 2 cores: inference about 2 ms less per frame, decoding unchanged).
    """
    frames = iter_video_frames(
        path,
        analysis_fps=analysis_fps,
        start_frame=start_frame,
        stop_frame=stop_frame,
        limits=limits,
        decode_threads=1 if shared_cores else 0,
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
    stage_cpu_seconds: dict[str, float]
    peak_rss_mb: float
    error: tuple[str, str] | None = None  # a MediaError's (code, message)


class PoseWorker:
    """A `python -m tracking.pose.chunks` process that estimates chunks, one job at a time.

    Started once and reused: its imports (cv2, mediapipe) cost about 0.7 core-seconds, as much
    as estimating 60 frames. Each job gets a new estimator, as each chunk is a new stream. On
    stdout it writes a line per frame estimated, then "done" once the job's result is written.
    It ends when its stdin closes, so it never outlives the process that started it.
    """

    def __init__(self):
        # MediaPipe logs a lot to stderr: a file cannot fill up and block the worker.
        self.log = tempfile.TemporaryFile("w+", prefix="formtrack-pose-worker-")
        python_path = [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, python_path))}
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tracking.pose.chunks"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def start(self, job: dict) -> None:
        # The worker writes through the same file offset: its next lines land at the start.
        self.log.seek(0)
        self.log.truncate()
        self.process.stdin.write(json.dumps(job).encode() + b"\n")
        self.process.stdin.flush()

    def failure(self) -> RuntimeError:
        """Why the job did not end: the worker's exit status and the end of its log."""
        status = self.process.wait()
        self.log.seek(0)
        return RuntimeError(f"pose worker exited with status {status}:\n{self.log.read()[-2000:]}")

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()
        self.log.close()


class _IdleWorkers:
    """Pose workers waiting for the next video, shared by the threads of this process."""

    def __init__(self, limit: int):
        self._limit = limit
        self._workers: list[PoseWorker] = []
        self._lock = threading.Lock()

    def take(self) -> PoseWorker:
        with self._lock:
            while self._workers:
                worker = self._workers.pop()
                if worker.alive():
                    return worker
                worker.stop()
        return PoseWorker()

    def give_back(self, worker: PoseWorker) -> None:
        with self._lock:
            if len(self._workers) < self._limit and worker.alive():
                self._workers.append(worker)
                return
        worker.stop()

    def warm_up(self, count: int) -> None:
        """Start workers until `count` wait, so the next video does not wait for imports."""
        with self._lock:
            self._workers = [worker for worker in self._workers if worker.alive()]
            missing = min(count, self._limit) - len(self._workers)
            self._workers.extend(PoseWorker() for _ in range(missing))

    def stop_all(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()


idle_workers = _IdleWorkers(limit=os.cpu_count() or 1)
atexit.register(idle_workers.stop_all)


class ChunkWorkers:
    """A pose worker per chunk of a video (idle ones first), all given their chunk at once, and
    given back to the idle ones once their results are read."""

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
        self._workers: list[PoseWorker] = []
        self._outputs = [Path(self._workdir.name) / f"chunk-{n}.pickle" for n in range(len(chunks))]
        self._frames_done = [0] * len(chunks)
        self._finished = [False] * len(chunks)
        self._partial_lines = [b""] * len(chunks)
        try:
            for number, chunk in enumerate(chunks):
                job = {
                    "path": str(Path(path).resolve()),
                    "chunk": asdict(chunk),
                    "model": model,
                    "analysis_fps": analysis_fps,
                    "limits": asdict(limits),
                    "output": str(self._outputs[number]),
                }
                self._workers.append(self._start(job))
                self._selector.register(
                    self._workers[-1].process.stdout, selectors.EVENT_READ, number
                )
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _start(job: dict) -> PoseWorker:
        worker = idle_workers.take()
        try:
            worker.start(job)
        except BrokenPipeError:  # it died after being checked: a new one
            worker.stop()
            worker = PoseWorker()
            worker.start(job)
        return worker

    def frames_done(self, timeout: float = 0.0) -> int:
        """Frames estimated so far by all workers, after waiting up to timeout for news."""
        if self._selector.get_map():
            for key, _ in self._selector.select(timeout):
                number = key.data
                data = os.read(key.fd, 65536)
                *lines, self._partial_lines[number] = (self._partial_lines[number] + data).split(
                    b"\n"
                )
                if lines and lines[-1] == b"done":
                    self._finished[number] = True
                    lines.pop()
                if lines:
                    self._frames_done[number] = int(lines[-1])
                if not data or self._finished[number]:
                    self._selector.unregister(key.fileobj)
        return sum(self._frames_done)

    def results(self, on_frames: Callable[[int], None] | None = None) -> list[ChunkResult]:
        """Each chunk's result in chunk order, once all workers are done; on_frames(n) hears
        the total number of frames estimated as it grows."""
        while self._selector.get_map():
            done = self.frames_done(timeout=1.0)
            if on_frames is not None:
                on_frames(done)
        for worker, finished in zip(self._workers, self._finished, strict=True):
            if not finished:
                raise worker.failure()
        results = []
        for output in self._outputs:
            with output.open("rb") as stream:
                results.append(ChunkResult(**pickle.load(stream)))  # noqa: S301 - our worker's
        for worker in self._workers:
            idle_workers.give_back(worker)
        self._workers = []
        for result in results:
            if result.error is not None:
                raise MediaError(*result.error)
        return results

    def close(self) -> None:
        # Workers not given back are mid-job (the caller gave up): they cannot be reused.
        for worker in self._workers:
            worker.stop()
        self._workers = []
        self._selector.close()
        self._workdir.cleanup()

    def __enter__(self) -> "ChunkWorkers":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


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
                shared_cores=True,
            ):
                if pose.frame_id >= chunk.start_frame:
                    poses.append(pose)
                    # Progress, a line per frame. Should the parent die, this write fails
                    # (broken pipe) and the worker ends with it.
                    print(len(poses), flush=True)
        error = None
    except MediaError as media_error:
        error = (media_error.code, media_error.message)
    return ChunkResult(poses, dict(timer.seconds), dict(timer.cpu_seconds), peak_rss_mb(), error)


def main() -> None:
    for line in sys.stdin.buffer:
        _serve(json.loads(line))
        _release_freed_memory()


def _serve(job: dict) -> None:
    reset_peak_rss()
    result = _run_job(job)
    # A plain dict: this module runs as __main__ here, so its classes would not unpickle.
    with open(job["output"], "wb") as stream:
        pickle.dump(vars(result), stream, protocol=pickle.HIGHEST_PROTOCOL)
    print("done", flush=True)


def _release_freed_memory() -> None:
    """Hands the finished job's freed memory back to the system while the worker waits: glibc
    would keep it (an idle worker measured 234 MB without this, 141 MB with it)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


if __name__ == "__main__":
    main()
