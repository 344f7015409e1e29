"""A whole uploaded file through pose estimation and the engine, without Django.

Videos: decode, sample at the analysis rate, estimate (MediaPipe video mode), feed the engine,
optionally burn the skeleton, counter and grade into an annotated MP4. Images: estimate once
(image mode) and report posture, keypoints and angles, with a PNG overlay.

The media and export links (`image_overlay`, `export_ready`) are the caller's: it stores the
files written to overlay_path/export_path and knows their URLs.
"""

import json
import math
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import cv2

from tracking.engine import events as contract
from tracking.engine.catalog import EXERCISES, resolve_exercise
from tracking.engine.i18n import N_, translate
from tracking.engine.messages import message
from tracking.engine.metrics import JOINTS, SIDES, Frame
from tracking.engine.outputs import angles_event, keypoints_event
from tracking.engine.pose import Pose
from tracking.engine.tracker import open_tracker
from tracking.pose.chunks import (
    FRAME_SECONDS,
    WORKER_HEAD_START_S,
    ChunkWorkers,
    StageTimer,
    estimate_frames,
    peak_rss_mb,
    reset_peak_rss,
    split_frames,
)
from tracking.pose.estimator import PoseEstimator
from tracking.pose.media import (
    DEFAULT_LIMITS,
    MediaLimits,
    browsers_play,
    iter_video_frames,
    probe_video,
    read_image,
    sniff_media_type,
)
from tracking.pose.render import (
    AnnotatedVideoWriter,
    PreviewEncoder,
    draw_skeleton,
    draw_status,
    export_size,
    render_image_overlay,
)
from tracking.pose.skeleton import SKELETONS, skeleton_name, style_for

# Worker processes cost about a second each to start: not worth it for short videos.
MIN_SECONDS_PER_WORKER = 10.0
WORKER_OVERLAP_S = 0.5
# The preview is encoded while the video is analysed, on the same cores: for the 60 s 720p video
# of bench/upload.py about 8 s of CPU beside the analysis' 12-14 s (`--preview`). It is waited for
# at most this long after the analysis (at least PREVIEW_MIN_WAIT_S), so a stuck encoder never
# holds the job.
PREVIEW_WAIT_PER_VIDEO_S = 0.5
PREVIEW_MIN_WAIT_S = 30.0
FULL_BODY = N_("Full body visible")


@dataclass
class AnalysisResult:
    events: list[dict]
    summary: dict
    stats: dict


def analyze_file(
    path: str | os.PathLike,
    *,
    params,
    on_progress: Callable[[int], None] | None = None,
    on_event: Callable[[dict], None] | None = None,
    export_path: str | os.PathLike | None = None,
    overlay_path: str | os.PathLike | None = None,
    timeline_path: str | os.PathLike | None = None,
    preview_path: str | os.PathLike | None = None,
    analysis_fps: float = 15.0,
    workers: int = 1,
    limits: MediaLimits = DEFAULT_LIMITS,
    reference_signature: dict | None = None,
    make_estimator: Callable[[str, str], PoseEstimator] = PoseEstimator,
) -> AnalysisResult:
    """Analyse one image or video file (the kind is sniffed from its content).

    params: a tracking request (tracking.params.TrackingParams or anything with its attributes:
    exercise, reference, keypoints, angles, blazepose, mediapipe_model, export, language, ...).
    on_progress(percent) is called with 0..100 as the work advances; on_event(event) with each
    event as it is produced. export_path receives the annotated MP4 of a video, overlay_path the
    PNG overlay of an image, timeline_path a video's pose timeline (JSON: the skeleton and the
    counter at each analysed frame, what a page draws over the original video instead of
    downloading an annotated copy; see write_timeline), preview_path a small H.264 copy of a video
    that every browser plays, to draw the timeline over (render.PreviewEncoder; written only when
    browsers do not play the original as it is, media.browsers_play, and not when encoding fails:
    stats' preview_error says why). workers > 1 splits a video of at least
    MIN_SECONDS_PER_WORKER per worker across that many processes (stats' stage seconds, elapsed
    in stages_s and CPU in stages_cpu_s, then add up all processes' time; peak_rss_mb is this
    process's peak during the analysis, workers_peak_rss_mb the workers').
    reference_signature: the movement signature when params.reference is set.
    make_estimator(model, mode): this process's pose estimator (bench/accuracy.py passes one that
    replays MediaPipe's landmarks of a file it has already analysed).
    Raises media.MediaError when the file cannot be analysed.
    """
    if analysis_fps <= 0:
        raise ValueError("analysis_fps must be positive")
    started = time.perf_counter()
    reset_peak_rss()
    progress = _Progress(on_progress)
    timer = StageTimer()
    with timer.stage("decode"):
        media_type = sniff_media_type(path, limits=limits)
    kind = media_type.kind
    run = _Run(params, timer, progress, on_event, make_estimator)
    if kind == "image":
        summary, stats = _analyze_image(path, run, overlay_path, limits)
    else:
        tracker = open_tracker(params, reference_signature)
        outputs = (export_path, timeline_path, preview_path)
        summary, stats = _analyze_video(
            path, media_type.mime, run, tracker, *outputs, analysis_fps, workers, limits
        )
    progress.report(100)
    wall_s = time.perf_counter() - started
    stats |= {
        "media": kind,
        "model": params.mediapipe_model,
        "wall_s": round(wall_s, 3),
        "stages_s": {name: round(seconds, 3) for name, seconds in timer.seconds.items()},
        "stages_cpu_s": {name: round(seconds, 3) for name, seconds in timer.cpu_seconds.items()},
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if kind == "video":
        stats["realtime_factor"] = round(stats["duration_s"] / wall_s, 2)
    return AnalysisResult(run.events, summary, stats)


class _Progress:
    def __init__(self, callback):
        self._callback = callback
        self._percent = -1

    @property
    def percent(self) -> int:
        return max(0, self._percent)

    def report(self, percent: float) -> None:
        percent = min(100, max(self._percent, int(percent)))
        if percent != self._percent and self._callback is not None:
            self._callback(percent)
        self._percent = percent


class _Run:
    """What one analysis collects: events in order, and what the annotated video shows."""

    def __init__(self, params, timer: StageTimer, progress: _Progress, on_event, make_estimator):
        self.params = params
        self.make_estimator = make_estimator
        self.timer = timer
        self.progress = progress
        self.events: list[dict] = []
        # When in the video each event happened (ms), in step with `events`: the time of the frame
        # that produced it; the closing ones, the last frame's.
        self.event_times_ms: list[float] = []
        self.now_ms = 0.0
        self._on_event = on_event
        self.skeleton = skeleton_name(blazepose=params.blazepose)
        # How the `skeleton` parameter draws it: None, not at all.
        self.style = style_for(params.skeleton)
        self.pose_only = params.exercise is None and params.reference is None
        # What the counter panel shows: a count (and grade), but for an assessment, which
        # measures angles (its rom_summary) and counts nothing.
        exercise = EXERCISES.get(resolve_exercise(params.exercise)) if params.exercise else None
        self.counted = not self.pose_only and not (exercise and exercise.kind == "assessment")
        self.count: int | None = None
        self.form_score: dict | None = None
        # (count, grade) as they stood after each analysed frame, by frame id: what is drawn.
        self.statuses: dict[int, tuple[int | None, str | None]] = {}

    @property
    def grade(self) -> str | None:
        return self.form_score.get("grade") if self.form_score else None

    def emit(self, events: list[dict]) -> None:
        for event in events:
            if event.get("type") == "counter":
                self.count = event.get("current_count", self.count)
                self.form_score = event.get("form_score") or self.form_score
            self.events.append(event)
            self.event_times_ms.append(round(self.now_ms, 1))
            if self._on_event is not None:
                self._on_event(event)


def _analyze_image(path, run: _Run, overlay_path, limits) -> tuple[dict, dict]:
    params = run.params
    with run.timer.stage("decode"):
        image = read_image(path, limits=limits)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    run.progress.report(10)
    with run.timer.stage("inference"):
        with run.make_estimator(params.mediapipe_model, "image") as estimator:
            pose = estimator.estimate(rgb, 0.0, frame_id=0)
    run.progress.report(80)
    frame = Frame(pose) if pose.landmarks is not None else None
    events = [_posture_event(frame, params.language)]
    if params.keypoints or run.pose_only:
        events.append(
            keypoints_event(frame, params.blazepose, mirrored=False, frame_id=0, timestamp_ms=0)
        )
    if frame is not None and params.angles:
        events.append(angles_event(frame, 0, 0.0))
    run.emit(events)
    if overlay_path is not None:
        with run.timer.stage("storage"):
            overlay = render_image_overlay(image, pose, skeleton=run.skeleton, style=run.style)
            Path(overlay_path).write_bytes(overlay)
    height, width = image.shape[:2]
    summary = {
        "media": "image",
        "width": width,
        "height": height,
        "person_detected": pose.landmarks is not None,
    }
    return summary, {"frames_analyzed": 1}


def _analyze_video(
    path,
    mime: str,
    run: _Run,
    tracker,
    export_path,
    timeline_path,
    preview_to,
    analysis_fps,
    workers,
    limits,
) -> tuple[dict, dict]:
    params = run.params
    with run.timer.stage("decode"):
        info = probe_video(path, limits=limits)
    run.progress.report(1)
    poses: list[Pose] = []
    analysed_fps = min(analysis_fps, info.fps)
    expected_frames = max(1, round(info.duration_s * analysed_fps))
    workers = max(1, min(workers, math.floor(info.duration_s / MIN_SECONDS_PER_WORKER)))
    chunks = split_frames(
        info.frame_count,
        workers,
        overlap_frames=round(WORKER_OVERLAP_S * info.fps),
        head_start_frames=round(
            WORKER_HEAD_START_S / FRAME_SECONDS[params.mediapipe_model] * info.fps / analysed_fps
        ),
    )
    own, others = chunks[0], chunks[1:]
    # Progress: estimation is most of the work, unless a second pass must draw the export.
    estimated_share = 70 if export_path is not None and others else 95
    with ExitStack() as resources:
        preview = None
        # Encoding costs about half the analysis' CPU again: only for originals browsers can't play.
        if preview_to is not None and not browsers_play(mime, info):
            preview = resources.enter_context(
                PreviewEncoder(path, preview_to, max_s=limits.max_duration_s)
            )
        writer = None
        if export_path is not None:
            size = export_size(info.width, info.height)
            writer = resources.enter_context(
                AnnotatedVideoWriter(export_path, fps=analysed_fps, size=size)
            )
        pool = None
        if others:  # started first: their start-up overlaps this process's own chunk
            pool = resources.enter_context(
                ChunkWorkers(
                    path,
                    others,
                    model=params.mediapipe_model,
                    analysis_fps=analysis_fps,
                    limits=limits,
                )
            )
        with run.make_estimator(params.mediapipe_model, "video") as estimator:
            # Each frame of this process's chunk is estimated, fed to the engine and drawn
            # while it is decoded.
            for frame, pose in estimate_frames(
                path,
                estimator,
                analysis_fps=analysis_fps,
                timer=run.timer,
                stop_frame=own.stop_frame,
                limits=limits,
                shared_cores=bool(others),
            ):
                _feed(tracker, pose, run, poses)
                if writer is not None:
                    _write_annotated(writer, frame, pose, run.statuses[pose.frame_id], run)
                done = len(poses) + (pool.frames_done() if pool is not None else 0)
                run.progress.report(estimated_share * done / expected_frames)
        if pool is not None:
            own_frames = len(poses)
            results = pool.results(
                on_frames=lambda done: run.progress.report(
                    estimated_share * (own_frames + done) / expected_frames
                )
            )
            for result in results:
                run.timer.add(result.stage_seconds, result.stage_cpu_seconds)
                for pose in result.poses:
                    _feed(tracker, pose, run, poses)
            if writer is not None:
                # A frame's counter needs the engine's state there, known only now: decode the
                # workers' part of the video again to draw it.
                _write_annotated_from(
                    path, others[0].start_frame, writer, poses, run, analysis_fps, limits
                )
        with run.timer.stage("engine"):
            final_events = tracker.finish()
        preview_error = None
        if preview is not None:
            with run.timer.stage("preview"):
                preview_error = preview.finish(
                    max(PREVIEW_MIN_WAIT_S, PREVIEW_WAIT_PER_VIDEO_S * info.duration_s)
                )
    run.emit(_closing_events(final_events, run))
    if timeline_path is not None:
        with run.timer.stage("storage"):
            write_timeline(timeline_path, poses, run, info.width, info.height)
    stats = {
        "duration_s": round(info.duration_s, 3),
        "source_fps": info.fps,
        "codec": info.codec,
        "analysis_fps": analysis_fps,
        "frames_analyzed": len(poses),
        "frames_with_person": sum(pose.landmarks is not None for pose in poses),
        "workers": len(chunks),
    }
    if pool is not None:
        stats["workers_peak_rss_mb"] = [round(result.peak_rss_mb, 1) for result in results]
    if preview_error is not None:
        stats["preview_error"] = preview_error
    if writer is not None:
        stats["export_codec"] = writer.codec
        stats["export_browser_playable"] = writer.browser_playable
    summary_event = next((e for e in run.events if e.get("type") == "exercise_summary"), None)
    summary = {
        "media": "video",
        "duration_s": stats["duration_s"],
        "frames_analyzed": len(poses),
        "frames_with_person": stats["frames_with_person"],
        "final_count": run.count,
        "exercise_summary": summary_event,
    }
    rom_summary = next((e for e in run.events if e.get("type") == "rom_summary"), None)
    if rom_summary is not None:
        summary["rom_summary"] = rom_summary
    return summary, stats


def _feed(tracker, pose: Pose, run: _Run, poses: list[Pose]) -> None:
    run.now_ms = pose.timestamp_ms
    with run.timer.stage("engine"):
        events = tracker.feed(pose)
    run.emit(events)
    run.statuses[pose.frame_id] = (run.count, run.grade)
    poses.append(pose)


def _write_annotated(writer, frame, pose: Pose, status, run: _Run) -> None:
    """Draw onto the decoded frame itself (it is not used afterwards) and write it."""
    with run.timer.stage("storage"):
        if run.style is not None:
            draw_skeleton(frame, pose, skeleton=run.skeleton, style=run.style)
        if run.counted:
            count, grade = status
            draw_status(frame, count=count or 0, grade=grade)
        writer.write(frame)


def _write_annotated_from(
    path, start_frame, writer, poses, run: _Run, analysis_fps, limits
) -> None:
    """Draw the frames from start_frame on, with the engine's status as it was at each."""
    by_frame = {pose.frame_id: pose for pose in poses if pose.frame_id >= start_frame}
    start_percent = run.progress.percent
    frames = iter_video_frames(
        path, analysis_fps=analysis_fps, start_frame=start_frame, limits=limits
    )
    done = 0
    while True:
        with run.timer.stage("decode"):
            item = next(frames, None)
        if item is None:
            return
        frame, _, index = item
        # The first frame after a seek is always kept; the workers may have skipped it.
        if index in by_frame:
            _write_annotated(writer, frame, by_frame[index], run.statuses[index], run)
            done += 1
        run.progress.report(start_percent + (99 - start_percent) * done / len(by_frame))


def write_timeline(path, poses: list[Pose], run: _Run, width: int, height: int) -> None:
    """The video's poses and counter as JSON, for drawing over the original video:

    {"version": 1, "width", "height", "skeleton": "coco" | "blazepose",
     "style": skeleton.style_for(params.skeleton) (null: draw no skeleton),
     "points": [landmark indices drawn], "edges": [[a, b], ...],
     "frames": [[t_ms, count, grade, [x0, y0, v0, x1, ...] | null], ...],
     "eventTimesMs": [t_ms of each event of the analysis, in order]}

    x and y are normalised to the frame (3 decimals), v is the visibility (2 decimals), for all
    33 landmarks; count and grade are as they stood after the frame (null before the first rep,
    and always null without an exercise or reference, or for an assessment). eventTimesMs lets a
    page post each event as its replay reaches the moment it happened.
    """
    points, edges = SKELETONS[run.skeleton]
    frames = []
    for pose in poses:
        count, grade = run.statuses[pose.frame_id] if run.counted else (None, None)
        flat = None
        if pose.landmarks is not None:
            flat = [
                value
                for x, y, _, visibility in pose.landmarks.tolist()
                for value in (round(x, 3), round(y, 3), round(visibility, 2))
            ]
        frames.append([round(pose.timestamp_ms, 1), count, grade, flat])
    timeline = {
        "version": 1,
        "width": width,
        "height": height,
        "skeleton": run.skeleton,
        "style": run.style,
        "points": list(points),
        "edges": [list(edge) for edge in edges],
        "frames": frames,
        "eventTimesMs": run.event_times_ms,
    }
    Path(path).write_text(json.dumps(timeline, separators=(",", ":")))


def _closing_events(final_events: list[dict], run: _Run) -> list[dict]:
    """The engine's closing events, with a final counter (if the engine gave none) and the
    keypoints batch (if asked for) placed before the exercise summary."""
    params = run.params
    closing = []
    exercise = EXERCISES.get(resolve_exercise(params.exercise) or "") if params.exercise else None
    # Jumps report jump events and assessments measurements, not a counter.
    counted = params.reference is not None or (
        exercise is not None and "counter" in exercise.outputs
    )
    has_final_counter = any(e.get("type") == "counter" and e.get("final") for e in final_events)
    if counted and not has_final_counter:
        closing.append(
            contract.counter(current_count=run.count or 0, final=True, form_score=run.form_score)
        )
    if params.keypoints:
        # The engine sent keypoints for every frame: the batch gathers them for the whole video.
        frames = [
            {key: e[key] for key in ("frameId", "timestampMs", "score", "keypoints")}
            for e in run.events
            if e.get("type") == "keypoints"
        ]
        closing.append(contract.keypoints_batch(frames=frames))
    summary_at = next(
        (i for i, e in enumerate(final_events) if e.get("type") == "exercise_summary"),
        len(final_events),
    )
    return final_events[:summary_at] + closing + final_events[summary_at:]


def _posture_event(frame: Frame | None, language: str) -> dict:
    """Whether the whole body is in the picture; the engine's placement needs an exercise."""
    missing = []
    if frame is None:
        text = message("step_in", language)
    else:
        missing = [
            f"{side}_{joint}"
            for side in SIDES
            for joint in ("shoulder", "hip", "knee", "ankle")
            if not frame.visible(JOINTS[side][joint])
        ]
        text = message("show_body", language) if missing else translate(FULL_BODY, language)
    ready = frame is not None and not missing
    return contract.posture(
        message=text,
        direction="in-frame",
        ready=ready,
        requirements=[] if ready else ["full_body_visible"],
        missing_keypoints=missing,
    )
