"""A workout on the live page, in Chromium with the squat clip as the camera: the step and its
target, the set and what comes next in the live coach HUD, the rest counted down in the count's
place, then the next step with its own target, at 390 and 1280 px (artifacts/
live-coaching-workout-*.png), and the workout's events reaching the host."""

import re

import pytest

from tests.browser.test_live_coaching import (
    BOOT_TIMEOUT_S,
    DESKTOP,
    PASS_S,
    Screen,
    _key,
    _readable,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

WORKOUT = "squat:2x2,rest:3,plank:30s"


def is_type(kind, **fields):
    return lambda e: e.get("type") == kind and all(e.get(k) == v for k, v in fields.items())


async def shown(screen, element_id):
    """The element's text when it is visible, else None."""
    if not await screen.page.is_visible(f"#{element_id}"):
        return None
    return await screen.page.inner_text(f"#{element_id}")


async def test_a_workout_shows_each_step_its_target_the_rest_and_what_comes_next(
    camera_browser, server_url
):
    key = await _key("developer")
    screen = await Screen.open(camera_browser, server_url, {"token": key, "workout": WORKOUT})

    # Before any event: the first step, its target, its set and what follows.
    assert await shown(screen, "formtrack-status") == "Squat"
    assert await shown(screen, "ft-step") == "Step 1 of 2 · Set 1 of 2"
    assert await shown(screen, "ft-next") == "Next: Set 2 of 2"
    assert (await shown(screen, "ft-count"), await shown(screen, "ft-target")) == ("0", "/ 2")

    # The first set: its reps toward its target.
    await screen.wait_for_event(is_type("workout_started"), BOOT_TIMEOUT_S, "the workout")
    counter = await screen.wait_for_event(is_type("counter"), PASS_S * 2, "a rep")
    assert counter["current_count"] == 1
    await screen.wait_shown("ft-count", "1", timeout_s=2)
    assert await shown(screen, "ft-unit") == "REPS"  # text-transform
    _readable(await screen.layout())
    await screen.screenshot("workout-set-390")

    # The set's target met: said, then the rest counts down where the count was.
    done = await screen.wait_for_event(is_type("workout_step", done=True), PASS_S, "set 1 done")
    assert (done["index"], done["set"], done["count"]) == (1, 1, 2)
    await screen.wait_shown("formtrack-status", "Rest", timeout_s=2)
    assert await shown(screen, "ft-unit") == "REST"
    assert re.fullmatch(r"0:0[1-3]", await shown(screen, "ft-count"))
    assert await shown(screen, "ft-target") is None
    assert await shown(screen, "ft-next") == "Next: Set 2 of 2"
    assert await shown(screen, "ft-step") is None
    await screen.screenshot("workout-rest-390")

    # Wide: the second set, then the rest before the plank.
    await screen.page.set_viewport_size(DESKTOP)
    second = await screen.wait_for_event(is_type("workout_step", set=2, done=False), 5, "set 2")
    await screen.wait_shown("ft-step", "Step 1 of 2 · Set 2 of 2", timeout_s=2)
    assert await shown(screen, "ft-next") == "Next: Plank"
    after = (await screen.events()).index(second)
    await screen.wait_for_event(is_type("counter"), PASS_S * 2, "set 2's rep", after=after)
    await screen.wait_shown("ft-count", "1", timeout_s=2)
    _readable(await screen.layout())
    await screen.screenshot("workout-set-1280")
    await screen.wait_for_event(is_type("rest"), PASS_S * 2, "the rest", after=after)
    await screen.wait_shown("ft-next", "Next: Plank", timeout_s=2)
    await screen.screenshot("workout-rest-1280")

    # The plank: a hold, its time toward 0:30.
    await screen.wait_for_event(is_type("workout_step", index=2, done=False), 5, "the plank")
    await screen.wait_shown("formtrack-status", "Plank", timeout_s=2)
    assert await shown(screen, "ft-unit") == "HELD"
    assert (await shown(screen, "ft-count"), await shown(screen, "ft-target")) == (
        "0:00",
        "/ 0:30",
    )
    assert await shown(screen, "ft-step") == "Step 2 of 2"
    assert await shown(screen, "ft-next") is None
    assert await shown(screen, "ft-grade") is None  # the squats' grade went with them
    _readable(await screen.layout())
    await screen.screenshot("workout-next-step-1280")

    # Finished before the plank is held: the host gets the workout so far.
    await screen.page.evaluate("window.FormTrack.finish()")
    summary = await screen.wait_for_event(is_type("workout_summary"), 20, "the summary")
    assert summary["completed"] is False
    assert [(s["setsDone"], s["count"]) for s in summary["steps"]] == [(2, 4), (0, 0)]
    posted = [e.get("type") for e in await screen.events()]
    assert posted.count("rest") >= 6 and "exercise_summary" not in posted
    await screen.page.context.close()


async def test_a_workout_goes_on_at_its_next_set_after_the_connection_drops(
    camera_browser, server_url
):
    """The socket drops during the rest after the first set: the page reconnects with
    workoutFrom, and the new session starts the second set, not the first."""
    key = await _key("developer")
    sockets, servers = [], []

    async def route(socket):
        sockets.append(socket)
        servers.append(socket.connect_to_server())

    screen = await Screen.open(
        camera_browser, server_url, {"token": key, "workout": WORKOUT}, route_socket=route
    )
    await screen.wait_for_event(is_type("workout_step", done=True), BOOT_TIMEOUT_S, "set 1 done")
    await sockets[0].close(code=1012)  # "service restart"
    await servers[0].close()

    after = len(await screen.events())
    started = await screen.wait_for_event(
        is_type("workout_started"), 20, "a resumed workout", after
    )
    assert started["from"] == {"index": 1, "set": 2}
    assert "workoutFrom=1.2" in sockets[1].url
    step = await screen.wait_for_event(is_type("workout_step"), 5, "its first set", after)
    assert (step["index"], step["set"], step["done"]) == (1, 2, False)
    await screen.wait_shown("ft-step", "Step 1 of 2 · Set 2 of 2", timeout_s=2)
    assert await shown(screen, "ft-next") == "Next: Plank"
    await screen.page.context.close()
