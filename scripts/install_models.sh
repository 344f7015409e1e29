#!/usr/bin/env bash
# Puts every pose model and the browser pose runtime in place, so that nothing is downloaded at
# run time. Idempotent: a second run only compares files.
#
# - npm @mediapipe/pose: its lite and heavy BlazePose landmark models go next to the full one in the
#   installed mediapipe package, so model_complexity 0 and 2 work offline (the wheel ships only 1).
# - npm @mediapipe/tasks-vision: wasm + JS for the live page, under static/vendor/mediapipe/.
# - The landmark models without their segmentation branch: what the server runs, and, bundled with
#   the pose detector as PoseLandmarker `.task` files (lite/full/heavy), what the live page runs.
#
# Packages are fetched from the npm registry once into .cache/npm/ and checked against pinned hashes.
# Environment: PYTHON (default .venv/bin/python) is the interpreter whose mediapipe gets the models.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CACHE="$ROOT/.cache/npm"
STATIC="$ROOT/static/vendor/mediapipe"

POSE_SPEC="@mediapipe/pose@0.5.1675469404"
POSE_INTEGRITY="sha512-DFZsNWTsSphRIZppnUCuunzBiHP2FdJXR9ehc7mMi4KG+oPaOH0Em3d6kr7Py+TSyTXC1doH88KcF28k2sBxsQ=="
VISION_SPEC="@mediapipe/tasks-vision@0.10.21"
VISION_INTEGRITY="sha512-TuhKH+credq4zLksGbYrnvJ1aLIWMc5r0UHwzxzql4BHECJwIAoBR61ZrqwGOW6ZmSBIzU1t4VtKj8hbxFaKeA=="

started=$SECONDS

ensure_npm() {
    command -v npm >/dev/null && return
    echo "npm not found: installing Debian's nodejs and npm"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update
    $sudo apt-get install -y nodejs npm
}

npm_integrity() {
    "$PYTHON" -c 'import base64, hashlib, sys
digest = hashlib.sha512(open(sys.argv[1], "rb").read()).digest()
print("sha512-" + base64.b64encode(digest).decode())' "$1"
}

# unpack SPEC INTEGRITY DIR: the npm package SPEC, unpacked into DIR (once).
unpack() {
    local spec=$1 integrity=$2 dir=$3
    [[ -f "$dir/package.json" ]] && return
    ensure_npm
    mkdir -p "$CACHE"
    local tarball
    tarball="$CACHE/$(cd "$CACHE" && npm pack --silent "$spec")"
    if [[ $(npm_integrity "$tarball") != "$integrity" ]]; then
        echo "error: $tarball does not match the pinned hash of $spec" >&2
        rm -f "$tarball"
        exit 1
    fi
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    tar -xzf "$tarball" -C "$dir.partial" --strip-components=1
    mv "$dir.partial" "$dir"
    echo "unpacked $spec"
}

# place SRC DST: copy readable by all (the package's modes are 0550), unless DST already matches.
place() {
    cmp -s "$1" "$2" && return
    install -D -m 0644 "$1" "$2"
    echo "placed ${2#"$ROOT"/}"
}

POSE_DIR="$CACHE/mediapipe-pose-0.5.1675469404"
VISION_DIR="$CACHE/mediapipe-tasks-vision-0.10.21"
unpack "$POSE_SPEC" "$POSE_INTEGRITY" "$POSE_DIR"
unpack "$VISION_SPEC" "$VISION_INTEGRITY" "$VISION_DIR"

# find_spec locates the package without importing it (importing mediapipe takes seconds).
MEDIAPIPE_DIR=$("$PYTHON" -c 'import importlib.util
print(importlib.util.find_spec("mediapipe").submodule_search_locations[0])')
LANDMARK_DIR="$MEDIAPIPE_DIR/modules/pose_landmark"
DETECTOR="$MEDIAPIPE_DIR/modules/pose_detection/pose_detection.tflite"
for size in lite heavy; do
    place "$POSE_DIR/pose_landmark_$size.tflite" "$LANDMARK_DIR/pose_landmark_$size.tflite"
done

for file in vision_bundle.mjs vision_bundle.mjs.map vision_bundle.cjs vision_bundle.cjs.map \
    wasm/vision_wasm_internal.js wasm/vision_wasm_internal.wasm \
    wasm/vision_wasm_nosimd_internal.js wasm/vision_wasm_nosimd_internal.wasm; do
    place "$VISION_DIR/$file" "$STATIC/tasks-vision/$file"
done

# What the server runs: each landmark model without its segmentation branch (same landmarks, about
# half the time a frame; tracking/pose/landmark_model.py).
for size in lite full heavy; do
    model="$LANDMARK_DIR/pose_landmark_$size.tflite"
    server_model="$STATIC/models/pose_landmark_${size}_no_segmentation.tflite"
    if [[ ! -f "$server_model" || "$model" -nt "$server_model" ]]; then
        (cd "$ROOT" && "$PYTHON" -m tracking.pose.landmark_model "$model" "$server_model")
        echo "wrote ${server_model#"$ROOT"/}"
    fi
done

# The live page's bundles, from the same segmentation-free models (about a third less time a frame
# in the browser). The stamp names what they were built from: bundles built from anything else are
# rebuilt.
BUNDLED_FROM="no_segmentation"
stamp="$STATIC/models/.bundled-from"
stale=()
for size in lite full heavy; do
    bundle="$STATIC/models/pose_landmarker_$size.task"
    model="$STATIC/models/pose_landmark_${size}_no_segmentation.tflite"
    if [[ ! -f "$bundle" || "$model" -nt "$bundle" || "$DETECTOR" -nt "$bundle"
        || $(cat "$stamp" 2>/dev/null) != "$BUNDLED_FROM" ]]; then
        stale+=("$size=$model")
    fi
done
if ((${#stale[@]})); then
    "$PYTHON" "$ROOT/scripts/build_pose_task_bundles.py" "$DETECTOR" "$STATIC/models" "${stale[@]}"
    echo "$BUNDLED_FROM" >"$stamp"
fi

echo "pose models in place ($((SECONDS - started)) s)"
