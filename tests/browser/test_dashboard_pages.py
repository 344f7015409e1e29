"""The dashboard as a person sees it, in Chromium at a phone's width (390 px) and a laptop's
(1280 px), against the real server on the story world's data: every page without a console error
or a failed request, the phone's menu with every section, tables as cards on the phone, the key
table whole on the laptop, and the getting-started checklist ticked by what the team did.

Acme's uploads and reference movement are made through the REST API from a real squat video and
analysed by the server, so every page shows real results. Screenshots go to artifacts/ (CI keeps
them): dashboard-<page>-<width>.png.
"""

import asyncio
import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from accounts import services
from accounts.models import ApiToken, Membership
from dashboard.shell import NAV
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_live_tracking import _in_worker_thread
from tests.browser.test_upload_page import phone_video  # noqa: F401 - a fixture: H.264 squats

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="module"),
]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
ANALYSIS_TIMEOUT_S = 240  # an upload and a reference on a busy 2-core machine
SECOND_SQUAT_MS = (3100, 4800)  # the clip's second squat, kept as Acme's reference
ATHLETE = "athlete-42"  # the end user (externalUserId) Acme's upload is for
SECTIONS = [
    "Overview",
    "Playground",
    "Usage",
    "Uploads",
    "End users",
    "References",
    "API keys",
    "Members",
    "Plan",
]


@_in_worker_thread
def _session_cookie(user) -> dict:
    """The session of `user`, logged in, as a cookie for the browser (the server reads the same
    database)."""
    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies["sessionid"].value}


async def _context(browser, server_url, viewport, user=None):
    phone = viewport["width"] < 800
    context = await browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    if user is not None:
        await context.add_cookies([(await _session_cookie(user)) | {"url": server_url}])
    return context


class Watched:
    """A page and what a person's browser would report about it: console errors, uncaught
    exceptions, failed requests and error answers."""

    def __init__(self, page):
        self.page = page
        self.problems = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"exception: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message):
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def _failed(self, request):
        # A video element cancels its first request itself once it has read what it needs, and
        # asks again with a range: that is how media loads, not a failure.
        if request.resource_type == "media" and request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"failed: {request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.url}")


async def _visit(context, url: str) -> Watched:
    watched = Watched(await context.new_page())
    await watched.page.goto(url)
    await watched.page.wait_for_load_state("networkidle")
    return watched


async def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"]
    await page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}-{width}.png"), full_page=True)


# The phone's top bar, menu closed: the brand, the section and the Menu button on one line.
BAR_MAX_PX = 64


async def _bar_height(page) -> float:
    """How high the phone's top bar is (a page shorter than the screen must not stretch it)."""
    return await page.evaluate(
        "document.querySelector('.sidebar')?.getBoundingClientRect().height || 0"
    )


async def _sideways_overflow(page) -> int:
    """How far the page scrolls sideways (0: it fits the screen)."""
    return await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@_in_worker_thread
def _acme_keys_and_invitation(acme, owner):
    """Acme's keys as a team has them after a while, and an invitation waiting for an answer."""
    services.token_create(
        organization=acme,
        name="Acme website",
        kind=ApiToken.Kind.PUBLISHABLE,
        created_by=owner,
        allowed_origins=[
            "https://www.acme-fitness.example",
            "https://staging.acme-fitness.example",
        ],
    )
    _, secret = services.token_create(organization=acme, name="Acme server", created_by=owner)
    membership = Membership.objects.get(organization=acme, user=owner)
    services.invitation_create(
        organization=acme,
        email="coach.newman@acme.test",
        role=Membership.Role.ADMIN,
        invited_by=owner,
        actor=membership,
    )
    return secret


async def _analysed(request, server_url, secret, path, fields, done_status) -> dict:
    """POST a video to the REST API with the secret key, then wait until the server has
    analysed it; its final state."""
    headers = {"Authorization": f"Bearer {secret}"}
    response = await request.post(f"{server_url}{path}", headers=headers, multipart=fields)
    assert response.status == 202, await response.text()
    url = f"{server_url}{path}/{(await response.json())['id']}"
    deadline = time.monotonic() + ANALYSIS_TIMEOUT_S
    while time.monotonic() < deadline:
        body = await (await request.get(url, headers=headers)).json()
        if body["status"] == done_status:
            return body
        assert body["status"] != "failed", body
        await asyncio.sleep(0.5)
    raise AssertionError(f"{url} not {done_status} within {ANALYSIS_TIMEOUT_S} s")


def _video(path) -> dict:
    return {"name": "squats.mp4", "mimeType": "video/mp4", "buffer": path.read_bytes()}


async def test_every_dashboard_page_at_a_phone_s_and_a_laptop_s_width(
    playwright_driver,
    launch_browser,
    server_url,
    worker,
    phone_video,  # noqa: F811 - the fixture imported above
    acme,
    owner,
    globex,
    outsider,
):
    secret = await _acme_keys_and_invitation(acme, owner)
    request = await playwright_driver.request.new_context()
    upload = await _analysed(
        request,
        server_url,
        secret,
        "/api/v1/uploads",
        {"file": _video(phone_video), "exercise": "squat", "externalUserId": ATHLETE},
        "done",
    )
    reference = await _analysed(
        request,
        server_url,
        secret,
        "/api/v1/references",
        {
            "video": _video(phone_video),
            "name": "Coach squat",
            "trim_start_ms": str(SECOND_SQUAT_MS[0]),
            "trim_end_ms": str(SECOND_SQUAT_MS[1]),
        },
        "ready",
    )
    await request.dispose()
    token = await _in_worker_thread(lambda: ApiToken.objects.get(name="Acme website").pk)()
    olivia = [
        ("overview", "/dashboard/"),
        ("playground", "/dashboard/playground/"),
        ("usage", "/dashboard/usage/"),
        ("usage-empty", "/dashboard/usage/?from=2025-01-01&to=2025-01-31"),
        ("uploads", "/dashboard/uploads/"),
        ("upload-detail", f"/dashboard/uploads/{upload['id']}/"),
        # The upload was an end user's: its result is theirs.
        ("end-users", "/dashboard/end-users/"),
        ("end-user", f"/dashboard/end-users/{ATHLETE}/"),
        ("references", "/dashboard/references/"),
        ("reference-new", "/dashboard/references/new/"),
        ("reference-detail", f"/dashboard/references/{reference['id']}/"),
        ("workouts", "/dashboard/workouts/"),
        ("tokens", "/dashboard/tokens/"),
        ("token-origins", f"/dashboard/tokens/{token}/origins/"),
        ("members", "/dashboard/members/"),
        ("plan", "/dashboard/plan/"),
        ("organization-new", "/dashboard/organizations/new/"),
        ("account", "/accounts/email/"),
    ]
    oscar = [("free-reference-new", "/dashboard/references/new/")]
    signed_out = [
        ("home", "/"),
        ("login", "/accounts/login/"),
        ("signup", "/accounts/signup/"),
        ("api-docs", "/api/docs/"),
        ("events-doc", "/api/docs/events/"),
    ]
    browser = await launch_browser()
    problems = {}
    for viewport in (PHONE, LAPTOP):
        for user, pages in ((owner, olivia), (outsider, oscar), (None, signed_out)):
            context = await _context(browser, server_url, viewport, user)
            for name, path in pages:
                watched = await _visit(context, server_url + path)
                await _shot(watched.page, name)
                found = list(watched.problems)
                if viewport is PHONE and (overflow := await _sideways_overflow(watched.page)):
                    found.append(f"scrolls {overflow} px sideways")
                if viewport is PHONE and (bar := await _bar_height(watched.page)) > BAR_MAX_PX:
                    found.append(f"a top bar {bar:.0f} px high")
                if found:
                    problems[f"{name} at {viewport['width']} px"] = found
                if name == "usage":
                    await _calls_are_counted_in_whole_numbers(watched.page)
                if name == "end-user":
                    assert (
                        await watched.page.is_visible("text=Repetitions per session")
                        and await watched.page.locator("svg.chart:visible .progress-dot").count()
                    )
                if name == "usage-empty":
                    assert await watched.page.is_visible("text=No usage yet in this range")
                if name == "free-reference-new":
                    await _plan_limit_is_read_before_the_form(watched.page)
                if name == "api-docs" and viewport is LAPTOP:
                    await _swagger_shows_typed_examples(watched.page)
                await watched.page.close()
            await context.close()
    assert problems == {}


async def _calls_are_counted_in_whole_numbers(page):
    ticks = await page.locator("svg.chart:visible .axis-calls").all_text_contents()
    assert len(ticks) >= 3 and all(tick.replace(",", "").isdigit() for tick in ticks), ticks


async def _swagger_shows_typed_examples(page):
    """Every operation unfolded, its example answers have named fields (a schema of only "an
    object" shows additionalProp1, 2, 3)."""
    for operation in await page.locator(".opblock-summary-control").all():
        await operation.click()
    examples = page.locator(".responses-wrapper .microlight")
    await examples.first.wait_for()
    shown = "\n".join(await examples.all_inner_texts())
    assert '"prefix": "string"' in shown and '"problems": [' in shown, shown[:2000]
    assert "additionalProp" not in shown
    await _shot(page, "api-docs-unfolded")


async def _plan_limit_is_read_before_the_form(page):
    """Oscar's Free plan allows one reference: he reads it above the form, before filling it."""
    allowance = page.locator("#reference-allowance")
    assert await allowance.is_visible()
    assert "Free plan allows 1 reference movement and you have 0" in await allowance.inner_text()
    allowance_box = await allowance.bounding_box()
    form_box = await page.locator("#reference-form").bounding_box()
    assert allowance_box["y"] + allowance_box["height"] <= form_box["y"]


@_in_worker_thread
def _a_secret_key_left_in_a_page(acme, owner):
    """A key whose row is as wide as rows get: long origins and the warning that a secret key
    was used in a page (as it is when a page opened with it)."""
    token, _ = services.token_create(
        organization=acme,
        name="Legacy web app (2023 release)",
        created_by=owner,
        allowed_origins=[
            "https://legacy-training-portal.acme-fitness.example",
            "https://partners.acme-fitness.example:8443",
        ],
    )
    services.token_note_page_use(token)


async def test_a_phone_shows_a_menu_with_every_section_and_tables_as_cards(
    launch_browser, server_url, acme, owner, acme_publishable_key
):
    await _a_secret_key_left_in_a_page(acme, owner)
    browser = await launch_browser()
    context = await _context(browser, server_url, PHONE, owner)
    page = (await _visit(context, f"{server_url}/dashboard/tokens/")).page

    # Closed, the bar says where the person is; the sections wait behind the Menu button.
    assert await page.inner_text("#current-section") == "API keys"
    menu = page.get_by_role("button", name="Menu")
    assert await menu.get_attribute("aria-expanded") == "false"
    assert not await page.get_by_role("link", name="Usage").is_visible()
    await _shot(page, "phone-menu-closed")
    await menu.click()
    assert await menu.get_attribute("aria-expanded") == "true"
    links = page.get_by_role("navigation", name="Sections").get_by_role("link")
    assert await links.all_inner_texts() == [label for _, label, _ in NAV]  # every section
    for link in await links.all():
        box = await link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert box["y"] + box["height"] <= PHONE["height"], box
    current = page.locator(".sidenav a[aria-current=page]")
    assert await current.inner_text() == "API keys"
    await _shot(page, "phone-menu-open")
    await page.keyboard.press("Escape")
    assert await menu.get_attribute("aria-expanded") == "false"
    await current.wait_for(state="hidden")

    # The key table: one card per key, each value under its column's name, no sideways scroll.
    table = page.locator("table.table")
    assert await table.evaluate("t => getComputedStyle(t).display") == "block"
    assert (await page.locator("thead").first.bounding_box())["height"] <= 1  # for readers only
    first_row = page.locator("tbody tr").first
    labels = await first_row.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert labels[:3] == ['"Key"', '"Origins"', '"Created"'], labels
    wrap = page.locator(".table-wrap").first
    assert await wrap.evaluate("w => w.scrollWidth <= w.clientWidth")
    assert await page.get_by_role(
        "button", name="Revoke Legacy web app (2023 release)"
    ).is_visible()
    assert await _sideways_overflow(page) == 0
    await _shot(page, "phone-tokens-cards")
    await context.close()

    # On a laptop the same table is whole: its last column (Revoke) is not cut off.
    context = await _context(browser, server_url, LAPTOP, owner)
    page = (await _visit(context, f"{server_url}/dashboard/tokens/")).page
    await _shot(page, "laptop-tokens")
    wrap = page.locator(".table-wrap").first
    scrolled, shown = await wrap.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert scrolled <= shown, f"the key table is {scrolled} px wide in {shown} px"
    wrap_box = await wrap.bounding_box()
    for button in await page.get_by_role("button", name="Revoke").all():
        box = await button.bounding_box()
        assert box["x"] + box["width"] <= wrap_box["x"] + wrap_box["width"], (box, wrap_box)
    await context.close()


async def _checklist(context, server_url) -> dict[str, bool]:
    watched = await _visit(context, f"{server_url}/dashboard/")
    steps = await watched.page.locator(".checklist li").evaluate_all(
        "items => items.map(i => [i.dataset.step, i.classList.contains('done')])"
    )
    await _shot(watched.page, "getting-started")
    await watched.page.close()
    assert watched.problems == []
    return dict(steps)


async def test_the_checklist_ticks_after_a_playground_session_and_an_embed(
    camera_browser, server_url, host_origin, acme, owner, acme_publishable_key
):
    context = await _context(camera_browser, server_url, LAPTOP, owner)
    await context.grant_permissions(["camera"], origin=server_url)
    started = {"key": True, "try": False, "reference": False, "embed": False}
    assert await _checklist(context, server_url) == started

    # A playground session: a token of its own, the camera, events from the tracking page.
    page = (await _visit(context, f"{server_url}/dashboard/playground/")).page
    await page.click("#playground-token-button")
    await page.wait_for_selector("#playground-token-info")
    await page.click("#pg-start")
    await page.wait_for_selector("#pg-log li[data-type=posture]", timeout=120_000)
    await page.close()
    assert await _checklist(context, server_url) == started | {"try": True}

    # Acme's website embeds the tracking page with its publishable key.
    site = await camera_browser.new_page(viewport={"width": 480, "height": 640})
    src = f"{server_url}/pose_tracker/tracking?token={acme_publishable_key}&exercise=squat"
    await site.goto(f"{host_origin}/host.html?{urlencode({'src': src})}")
    tracker = await (await site.wait_for_selector("#tracker")).content_frame()
    await tracker.wait_for_selector("#formtrack-root", state="attached")
    await site.close()
    assert await _checklist(context, server_url) == started | {"try": True, "embed": True}
    await context.close()


async def test_a_new_key_s_try_it_is_a_link_and_its_origins_are_edited_later(
    launch_browser, server_url, acme, owner
):
    browser = await launch_browser()
    context = await _context(browser, server_url, LAPTOP, owner)
    page = (await _visit(context, f"{server_url}/dashboard/tokens/")).page
    await page.fill("input[name=name]", "Acme iOS app")
    await page.click("button:has-text('Create key')")
    key = (await page.inner_text("#new-token-value")).strip()
    try_it = page.locator("#new-token-try")
    tracking = f"{server_url}/pose_tracker/tracking?token={key}&exercise=squat"
    assert await try_it.get_attribute("href") == tracking
    await _shot(page, "token-created")
    async with context.expect_page() as opened:
        await try_it.click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == tracking and await tab.locator("#formtrack-root").count() == 1
    await tab.close()

    # Later the app gets a website: the key's origins are changed from the table.
    await page.goto(f"{server_url}/dashboard/tokens/")
    await page.get_by_role("link", name="Edit the allowed origins of Acme iOS app").click()
    await page.fill("textarea[name=allowed_origins]", "https://app.acme-fitness.example/login")
    await _shot(page, "token-origins")
    await page.click("button:has-text('Save origins')")
    row = page.locator("tr", has_text="Acme iOS app")
    assert "https://app.acme-fitness.example" in await row.locator("td.origins").inner_text()
    await context.close()


async def test_the_sole_owner_is_not_offered_leave_and_an_invitation_fills_in_its_address(
    launch_browser, server_url, acme, owner, member
):
    browser = await launch_browser()
    context = await _context(browser, server_url, PHONE, owner)
    page = (await _visit(context, f"{server_url}/dashboard/members/")).page
    olivia = page.locator("tr", has_text="olivia@acme.test")
    assert await olivia.get_by_role("button", name="Leave").count() == 0
    assert await olivia.locator("text=Only owner").is_visible()
    max_row = page.locator("tr", has_text="max@acme.test")
    assert await max_row.get_by_role("button", name="Remove max@acme.test").is_visible()
    await _shot(page, "members-sole-owner")
    await context.close()

    accept = await _invitation_link(acme, owner)
    context = await _context(browser, server_url, PHONE)
    page = (await _visit(context, server_url + accept)).page
    await page.get_by_role("link", name="Sign up with coach.newman@acme.test").click()
    await page.wait_for_selector("input[name=email]")
    assert await page.input_value("input[name=email]") == "coach.newman@acme.test"
    await _shot(page, "invitation-signup")
    await context.close()


@_in_worker_thread
def _invitation_link(acme, owner) -> str:
    membership = Membership.objects.get(organization=acme, user=owner)
    _, raw = services.invitation_create(
        organization=acme,
        email="coach.newman@acme.test",
        role=Membership.Role.MEMBER,
        invited_by=owner,
        actor=membership,
    )
    return f"/dashboard/invitations/accept/{raw}/"
