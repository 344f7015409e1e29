"""BlazePose landmark models without their segmentation branch: what the server runs.

A landmark model has five outputs: landmarks, pose presence, a 256×256 segmentation mask,
heatmaps and world landmarks. MediaPipe's pose graph reads the mask only when segmentation is
enabled, which it never is here, yet the model computes it on every frame: without it a lite
model frame took 6.5 instead of 15–17 ms of CPU on a 2-core machine (bench/upload.py, issue
#18; the network alone, in LiteRT: 4.5 instead of 10.2 ms). The copy written here keeps,
unchanged, every operator the four other outputs need and turns the mask into a constant tensor
of zeros, so the graph, which splits the model's five outputs, runs as before and finds the same
landmarks.

    python -m tracking.pose.landmark_model SOURCE TARGET    (run by scripts/install_models.sh)
"""

import os
import sys
import tempfile
from pathlib import Path

import flatbuffers
import numpy as np
from mediapipe.tasks.metadata import schema_py_generated as tflite

SEGMENTATION_OUTPUT = "Identity_2"


def without_segmentation(model: bytes) -> bytes:
    """The model with its segmentation output constant and the operators only it used removed."""
    root = tflite.ModelT.InitFromObj(tflite.Model.GetRootAsModel(model, 0))
    graph = root.subgraphs[0]
    outputs = {graph.tensors[index].name.decode(): index for index in graph.outputs}
    if SEGMENTATION_OUTPUT not in outputs or len(outputs) != 5:
        raise ValueError(f"not a BlazePose landmark model: outputs {sorted(outputs)}")
    mask = outputs.pop(SEGMENTATION_OUTPUT)
    producer = {tensor: n for n, op in enumerate(graph.operators) for tensor in op.outputs}
    needed: set[int] = set()
    pending = [producer[tensor] for tensor in outputs.values()]
    while pending:
        op = pending.pop()
        if op not in needed:
            needed.add(op)
            pending += [producer[t] for t in graph.operators[op].inputs if t in producer]
    graph.operators = [op for n, op in enumerate(graph.operators) if n in needed]
    zeros = tflite.BufferT()
    zeros.data = np.zeros(int(np.prod(graph.tensors[mask].shape)) * 4, np.uint8)  # float32
    root.buffers.append(zeros)
    graph.tensors[mask].buffer = len(root.buffers) - 1
    builder = flatbuffers.Builder(len(model) + zeros.data.size)
    builder.Finish(root.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def write_without_segmentation(source: Path, target: Path) -> None:
    """Writes `source` without its segmentation branch to `target`, never half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(without_segmentation(source.read_bytes()))
        os.chmod(partial, 0o644)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    write_without_segmentation(Path(sys.argv[1]), Path(sys.argv[2]))
