"""Pose worker processes: kept between videos, replaced when they die, never reused mid-job."""

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from tests.support.clips import SQUAT_CLIP
from tests.support.servers import wait_until
from tracking.pose.chunks import Chunk, ChunkWorkers, idle_workers
from tracking.pose.media import MediaError, MediaLimits

# Source frames 30-60 of the squat clip (10 fps: every frame is analysed), after 10 of warm-up.
CHUNK = Chunk(start_frame=30, stop_frame=60, warmup_frame=20)

pytestmark = pytest.mark.slow  # worker processes running MediaPipe on the clip


def worker_pids() -> set[int]:
    """This process's pose workers, seen from the operating system."""
    pids = set()
    for proc in Path("/proc").iterdir():
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (proc / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if parent == os.getpid() and b"tracking.pose.chunks" in command:
            pids.add(int(proc.name))
    return pids


def kill(pid: int) -> None:
    """SIGKILL, then wait until the process has ended (without reaping it: that is for its
    Popen)."""
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None,
        10,
        f"pose worker {pid} to end",
        interval=0.01,
    )


def estimate(chunk=CHUNK, limits=None):
    with ChunkWorkers(
        SQUAT_CLIP, [chunk], model="lite", analysis_fps=15.0, limits=limits or MediaLimits()
    ) as pool:
        (result,) = pool.results()
    return result.poses


@pytest.fixture(autouse=True)
def no_idle_workers():
    idle_workers.stop_all()
    yield
    idle_workers.stop_all()


def test_a_worker_is_kept_for_the_next_video_and_gives_the_same_poses():
    first = estimate()
    pids = worker_pids()

    second = estimate()

    assert len(pids) == 1 and worker_pids() == pids
    assert [p.frame_id for p in first] == [p.frame_id for p in second]
    assert first[0].frame_id == 30 and len(first) == 30
    np.testing.assert_allclose(
        [p.landmarks for p in first], [p.landmarks for p in second], atol=1e-6
    )


def test_a_worker_that_died_while_waiting_is_replaced():
    estimate()
    (dead,) = worker_pids()
    kill(dead)

    poses = estimate()

    assert len(poses) == 30
    assert len(worker_pids()) == 1 and dead not in worker_pids()


def test_a_worker_dying_mid_chunk_is_a_readable_error_and_is_not_kept():
    with ChunkWorkers(SQUAT_CLIP, [Chunk(0, None, 0)], model="lite", analysis_fps=15.0) as pool:
        while pool.frames_done(timeout=5.0) == 0:
            pass
        (dying,) = worker_pids()
        os.kill(dying, signal.SIGKILL)

        with pytest.raises(RuntimeError, match="pose worker exited with status -9"):
            pool.results()

    assert worker_pids() == set()
    assert len(estimate()) == 30


def test_a_worker_that_refused_the_video_stays_usable():
    with pytest.raises(MediaError) as refused:
        estimate(Chunk(0, None, 0), limits=MediaLimits(max_duration_s=5))
    pids = worker_pids()

    assert refused.value.code == "video_too_long"
    assert len(pids) == 1
    assert len(estimate()) == 30 and worker_pids() == pids
