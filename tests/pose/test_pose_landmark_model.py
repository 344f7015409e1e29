"""The server's landmark models: MediaPipe's, without the segmentation branch."""

import pytest
from mediapipe.tasks.metadata import schema_py_generated as tflite

from tracking.pose.estimator import model_files, server_landmark_model
from tracking.pose.landmark_model import SEGMENTATION_OUTPUT, without_segmentation

NOT_INSTALLED = "run scripts/install_models.sh"


def read_model(data: bytes):
    return tflite.ModelT.InitFromObj(tflite.Model.GetRootAsModel(data, 0))


def outputs(model) -> dict[str, tuple[list[int], object]]:
    """Each output's shape and constant data (None where an operator computes it)."""
    graph = model.subgraphs[0]
    found = {}
    for index in graph.outputs:
        tensor = graph.tensors[index]
        data = model.buffers[tensor.buffer].data if tensor.buffer else None
        found[tensor.name.decode()] = (list(tensor.shape), data)
    return found


def operators(model) -> list[tuple[int, tuple[str, ...]]]:
    graph = model.subgraphs[0]
    return [
        (op.opcodeIndex, tuple(graph.tensors[t].name.decode() for t in op.outputs))
        for op in graph.operators
    ]


@pytest.mark.parametrize("model", ["lite", "full", "heavy"])
def test_the_server_model_keeps_every_output_and_computes_all_but_the_mask(model):
    installed = server_landmark_model(model)
    assert installed.is_file(), NOT_INSTALLED
    original = read_model(model_files(model)[1].read_bytes())
    server = read_model(installed.read_bytes())

    original_outputs, server_outputs = outputs(original), outputs(server)
    assert {name: shape for name, (shape, _) in server_outputs.items()} == {
        name: shape for name, (shape, _) in original_outputs.items()
    }
    mask_shape, mask = server_outputs.pop(SEGMENTATION_OUTPUT)
    assert mask_shape == [1, 256, 256, 1]
    assert mask is not None and mask.size == 256 * 256 * 4 and not mask.any()
    assert all(data is None for _, data in server_outputs.values())
    kept = operators(server)
    assert set(kept) < set(operators(original))
    assert not any(SEGMENTATION_OUTPUT in names for _, names in kept)


def test_a_model_that_is_not_a_landmark_model_is_refused():
    detector = model_files("lite")[0]

    with pytest.raises(ValueError, match="not a BlazePose landmark model"):
        without_segmentation(detector.read_bytes())


def test_the_installed_model_is_what_the_source_model_gives():
    source = model_files("lite")[1].read_bytes()

    assert without_segmentation(source) == server_landmark_model("lite").read_bytes()
