"""The dashboard's Workouts page: owners and admins save workouts written as the workout
parameter writes them, every member sees them with the live page's link, and nobody outside the
organisation sees or deletes them."""

import pytest

from tracking.models import SavedWorkout

pytestmark = pytest.mark.django_db


def save(client, steps, name="Leg day"):
    return client.post("/dashboard/workouts/new/", {"name": name, "steps": steps})


def test_an_owner_saves_a_workout_and_every_member_sees_its_link(owner_client, member_client):
    response = save(owner_client, "Squat:10X3, rest:30, plank:45")
    assert response.status_code == 302 and response.url == "/dashboard/workouts/"
    saved = SavedWorkout.objects.get()
    assert saved.name == "Leg day" and str(saved.plan) == "squat:10x3,rest:30,plank:45s"
    html = member_client.get("/dashboard/workouts/").content.decode()
    assert "Leg day" in html and "squat:10x3,rest:30,plank:45s" in html
    assert f"/pose_tracker/tracking?token=YOUR_TOKEN&amp;workout={saved.pk}" in html
    assert "Save workout" not in html and "Delete" not in html  # members only read


@pytest.mark.parametrize(
    ("steps", "said"),
    [
        ("squat:10,rest:30,rest:10", "Workout item 3: a rest comes after an exercise, once"),
        ("squat:10,jump_analysis:3", "jump_analysis is a jump exercise"),
        (
            "6f1c2b44-0000-4000-8000-000000000000:5",
            "reference movement 6f1c2b44-0000-4000-8000-000000000000 was not found",
        ),
    ],
)
def test_steps_that_cannot_be_followed_are_sent_back_with_what_is_wrong(
    admin_client_acme, steps, said
):
    response = save(admin_client_acme, steps)
    assert response.status_code == 400
    assert said in response.content.decode()
    assert not SavedWorkout.objects.exists()


def test_members_and_outsiders_neither_save_nor_delete(
    owner_client, member_client, outsider_client
):
    save(owner_client, "squat:10")
    saved = SavedWorkout.objects.get()
    assert save(member_client, "lunge:10").status_code == 403
    assert member_client.post(f"/dashboard/workouts/{saved.pk}/delete/").status_code == 403
    assert outsider_client.post(f"/dashboard/workouts/{saved.pk}/delete/").status_code == 404
    assert "Leg day" not in outsider_client.get("/dashboard/workouts/").content.decode()
    assert SavedWorkout.objects.count() == 1


def test_an_owner_deletes_a_workout(owner_client):
    save(owner_client, "squat:10")
    saved = SavedWorkout.objects.get()
    response = owner_client.post(f"/dashboard/workouts/{saved.pk}/delete/")
    assert response.status_code == 302
    assert not SavedWorkout.objects.exists()


def test_a_workout_the_catalog_no_longer_reads_is_still_listed(member_client, acme):
    steps = [{"exercise": "retired_move", "reference": None, "target": 10, "unit": "reps"}]
    SavedWorkout.objects.create(
        organization=acme, name="Old", steps=[steps[0] | {"sets": 1, "rest_s": 0}]
    )
    page = member_client.get("/dashboard/workouts/")
    assert page.status_code == 200
    assert "retired_move:10" in page.content.decode()
