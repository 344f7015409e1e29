#!/usr/bin/env bash
# Serve FormTrack with Daphne (HTTP + WebSockets); with REDIS_URL also run a Celery worker.
# Usage: scripts/serve.sh PUBLISHABLE_KEY SECRET_KEY [HOST] [PORT]
# The publishable key goes in the page URLs, the secret key only in the API line.
set -euo pipefail
cd "$(dirname "$0")/.."
publishable="$1"
secret="$2"
host="${3:-127.0.0.1}"
port="${4:-8000}"
base="http://${host}:${port}"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ -n "${REDIS_URL:-}" ]; then
  # --beat: this one worker also queues the periodic tasks (pruning end users' data).
  .venv/bin/celery -A config worker --beat --schedule "${TMPDIR:-/tmp}/formtrack-celerybeat-schedule" \
    --loglevel=INFO --concurrency="$(nproc)" &
  pids+=($!)
  jobs_line="Background jobs: Celery worker on ${REDIS_URL}"
else
  jobs_line="Background jobs: in-process thread pool (set REDIS_URL for a Celery worker)"
fi

cat <<MSG

FormTrack is running on ${base}
  Live tracking:    ${base}/pose_tracker/tracking?token=${publishable}&exercise=squat
  Upload tracking:  ${base}/pose_tracker/upload_tracking?token=${publishable}&exercise=squat
  API (Swagger):    ${base}/api/docs/        (Authorization: Bearer ${secret}, server side only)
  Dashboard:        ${base}/dashboard/        (demo@formtrack.local / formtrack-demo)
  ${jobs_line}

MSG

.venv/bin/python -m config.daphne -b "$host" -p "$port" config.asgi:application &
pids+=($!)
wait -n "${pids[@]}"
