"""Time to the first skeleton: from the live tracking page's navigation to the first frame drawn
with a pose, in headless Chromium on the CPU with the squat clip as its fake camera.

Starts a real server (bench/server.py: Daphne with production settings, serving its own static
files, a fresh SQLite database, the demo publishable key), then for each run opens the page in a
fresh browser profile (cold: nothing cached) and, after a short session and a browser restart,
again in the same profile (warm: a second visit, with what the first left in the browser's HTTP
cache and code caches). Browsers keep the files Daphne serves by their Last-Modified date; behind
nginx, production's content-hashed names for a year (deploy/nginx.conf): either way the warm visit
takes nothing large from the network, as its column shows. The page marks its start-up
milestones (performance marks `formtrack:connected`, `camera`, `model`, `first-pose`, in ms from
navigation); each visit also reports the inference time per frame it settled at. Prints the
median and the worst of each kind. Targets (issue #18): warm ≤ 1.0 s, cold ≤ 2.0 s.

    .venv/bin/python bench/first_pose.py [--runs 5] [--model lite] [--rtt 100 --mbps 20]

`--rtt` and `--mbps` emulate a slower network in Chromium (a phone on 4G, say): on loopback the
page's round trips cost nothing, which hides what they cost a person.
"""

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import Server  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, fake_camera_args  # noqa: E402
from tests.support.clips import SQUAT_CLIP, clip_to_y4m  # noqa: E402
from tests.support.servers import production_settings  # noqa: E402

MILESTONES = ("connected", "camera", "model", "first-pose")
FIRST_POSE_TIMEOUT_S = 60
SESSION_S = 8
# As tests/browser: the 10 fps clip upscaled, each frame shown 3 times (a 30 fps camera).
CAMERA_SCALE, CAMERA_REPEAT = 2, 3

# The page's milestones, and the bytes each file it fetched took from the network (0 from the
# browser's cache).
READ_VISIT = """() => ({
  marks: Object.fromEntries(performance.getEntriesByType("mark")
    .filter((m) => m.name.startsWith("formtrack:")).map((m) => [m.name.slice(10), m.startTime])),
  resources: ["navigation", "resource"].flatMap((type) => performance.getEntriesByType(type))
    .map((r) => ({ name: r.name, transfer: r.transferSize })),
})"""


def visit(playwright, profile: Path, camera: Path, url: str, network: dict | None) -> dict:
    """One page visit in a browser started on `profile`: its milestones in ms from navigation and
    the bytes it fetched from the network. `network`: Chromium's emulated network conditions
    (DevTools' Network.emulateNetworkConditions), None for loopback as it is."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, *fake_camera_args(camera)],
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        if network:
            devtools = context.new_cdp_session(page)
            devtools.send("Network.enable")
            devtools.send("Network.emulateNetworkConditions", network)
        page.goto(url)
        page.wait_for_function(
            "() => performance.getEntriesByName('formtrack:first-pose').length",
            timeout=FIRST_POSE_TIMEOUT_S * 1000,
        )
        seen = page.evaluate(READ_VISIT)
        # A short session, as a person's first one would be (minutes): Chromium stores the wasm
        # it compiled once it has optimised it, for the next visit. Meanwhile the page measures
        # its inference time per frame.
        page.wait_for_timeout(SESSION_S * 1000)
        seen["inference_ms"] = page.evaluate("() => window.FormTrack.stats.inferenceMs")
        # The page finishes its session as a person leaving would, before the browser closes.
        page.evaluate("() => window.FormTrack.finish()")
    finally:
        context.close()
    network = sum(r["transfer"] for r in seen["resources"])
    return seen | {"network_bytes": network}


def row(kind: str, run: int, result: dict) -> str:
    marks = result["marks"]
    cells = " ".join(f"{marks.get(name, float('nan')):>10.0f}" for name in MILESTONES)
    return (
        f"{kind:<5} {run:>3} {cells} {result['network_bytes'] / 1e6:>9.2f} "
        f"{result['inference_ms'] or float('nan'):>9.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold and warm visits of each kind")
    parser.add_argument("--model", default="lite", choices=("lite", "full", "heavy"))
    parser.add_argument("--verbose", action="store_true", help="each visit's resources too")
    parser.add_argument(
        "--rtt", type=float, default=0, help="emulated round trip in ms (e.g. 100 for 4G)"
    )
    parser.add_argument("--mbps", type=float, default=0, help="emulated download Mbit/s")
    parser.add_argument(
        "--proxy",
        action="store_true",
        help="as deployed: collectstatic and the shipped nginx config in front of Daphne",
    )
    args = parser.parse_args()
    network = None
    if args.rtt or args.mbps:
        bytes_per_s = args.mbps * 1e6 / 8 if args.mbps else -1  # -1: not throttled
        network = {
            "offline": False,
            "latency": args.rtt,
            "downloadThroughput": bytes_per_s,
            "uploadThroughput": bytes_per_s,
        }
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="formtrack-bench-first-pose-") as workdir:
        work = Path(workdir)
        camera = work / "squat.y4m"
        clip_to_y4m(SQUAT_CLIP, camera, scale=CAMERA_SCALE, repeat=CAMERA_REPEAT)
        server = Server(work, processes=1, proxy=args.proxy, **production_settings())
        query = {"token": server.publishable_key, "exercise": "squat"}
        if args.model != "lite":
            query["mediapipeModel"] = args.model
        url = f"{server.url}/pose_tracker/tracking?{urlencode(query)}"
        results = {"cold": [], "warm": []}
        conditions = f"{args.rtt:g} ms round trips, {args.mbps or 'unlimited'} Mbit/s"
        print(f"network: {conditions if network else 'loopback as it is'}")
        print(
            "server: "
            + (
                "nginx (deploy/nginx.conf) in front of Daphne"
                if args.proxy
                else "Daphne serving its own static files"
            )
        )
        print(
            f"model={args.model}, {args.runs} runs; milestones in ms from navigation, MB from "
            f"the network, inference ms a frame (mean of the last 30 of a {SESSION_S} s session)"
        )
        print(
            f"{'visit':<5} {'run':>3} "
            + " ".join(f"{m:>10}" for m in MILESTONES)
            + "   network  infer ms"
        )
        try:
            with sync_playwright() as playwright:
                for run in range(1, args.runs + 1):
                    profile = work / f"profile-{run}"
                    for kind in ("cold", "warm"):
                        load = os.getloadavg()[0]
                        result = visit(playwright, profile, camera, url, network)
                        results[kind].append(result)
                        print(row(kind, run, result) + f"   load {load:.2f}", flush=True)
                        if args.verbose:
                            for resource in result["resources"]:
                                print(f"      {resource['transfer']:>10} {resource['name']}")
        finally:
            server.stop()
    for kind, target in (("cold", 2000), ("warm", 1000)):
        firsts = [r["marks"]["first-pose"] for r in results[kind]]
        print(
            f"{kind}: first skeleton median {statistics.median(firsts):.0f} ms, "
            f"worst {max(firsts):.0f} ms (target ≤ {target} ms)"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
