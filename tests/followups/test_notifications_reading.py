"""Notifications people read (issue 11, item 5): stored as a kind and parameters, shown in the
reader's language, naming the child as the reader may see them; the unread badge on a phone;
each user's settings; the visitor told of the review of their flagged visit."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from assessments.models import Alert
from cases.models import CareTeamMember, Child
from cases.services.access import access_request_create, access_request_decide
from cases.services.care import care_team_add
from core.models import Notification, NotificationPreference
from core.notifications import notification_preference, notify
from followups.notifications import render_all
from followups.services import visit_record
from institutions.masking import mask_name, may_see
from institutions.roles import Role
from tests.conftest import user
from tests.demo import VILLAGE_A, VILLAGE_B
from tests.factories import ChildFactory, UserFactory

pytestmark = pytest.mark.django_db


def village_a_child() -> Child:
    return ChildFactory(region=VILLAGE_A)


def flag(child: Child, *, by: str = "director_a"):
    return visit_record(
        child=child,
        data={
            "kind": "home_visit",
            "visited_on": timezone.localdate(),
            "concerns": ["self_harm_talk"],
        },
        by=user(by),
    )


def shown(client) -> list[str]:
    """The notifications as the list page shows them, newest first."""
    html = client.get(reverse("followups:notifications")).content.decode()
    return [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(r'data-testid="notification">(.*?)</button>', html, re.S)
    ]


def reason_in(language: str) -> str:
    with translation.override(language):
        return str(Alert.Reason.FLAGGED_VISIT.label)


# Language.


def test_a_notification_reads_in_english_to_who_reads_english_and_in_chinese_to_others(login):
    child = village_a_child()
    care_team_add(child=child, team_role="mentor", user=user("mentor"), by=user("director_a"))
    flag(child)
    named = f"{child.name} ({child.record_number})"

    mentor = login("mentor")
    # The mentor chooses English in their settings: the pages and the messages follow.
    mentor.post(
        reverse("followups:notification_settings"),
        {"language": "en", "by_email": "on"},
    )
    assert notification_preference(user("mentor")).language == "en"
    english = shown(mentor)
    assert f"Alert for {named}: {reason_in('en')}. Please acknowledge." in english

    # The same kind of message, stored once per reader, reads in Chinese for the supervisor.
    chinese = shown(login("supervisor_town"))
    assert f"{named} 预警：{reason_in('zh-hans')}，请确认处理。" in chinese
    stored = Notification.objects.filter(kind="alert", child=child)
    assert {n.text for n in stored} == {""}  # no pre-rendered text
    assert all(n.params["reason"] == Alert.Reason.FLAGGED_VISIT for n in stored)


def test_the_language_switch_keeps_a_signed_in_users_language_for_their_messages(login):
    client = login("director_b")
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert NotificationPreference.objects.get(user=user("director_b")).language == "en"
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert notification_preference(user("director_b")).language == "zh-hans"


def test_signing_in_on_a_new_device_speaks_the_users_chosen_language(login):
    NotificationPreference.objects.update_or_create(
        user=user("director_b"), defaults={"language": "en"}
    )
    client = login("director_b")  # a fresh client: no language cookie on this device
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
    page = client.get("/").content.decode()
    assert "<title>Work list" in page
    # Another user, who chose nothing, gets Simplified Chinese.
    assert "<title>待办事项" in login("director_a").get("/").content.decode()


def test_the_language_switch_still_works_before_signing_in():
    response = Client().post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


# The child, named as the reader may see them.


def test_a_volunteer_reads_the_whole_name_of_a_child_they_care_for(login):
    volunteer = UserFactory(role=Role.VOLUNTEER)
    child = village_a_child()
    care_team_add(child=child, team_role="volunteer", user=volunteer, by=user("director_a"))
    # The masking table gives names to whoever may read the file, volunteers included.
    assert may_see(volunteer, "name")
    with translation.override("zh-hans"):
        role = str(CareTeamMember.TeamRole.VOLUNTEER.label)
    assert shown(login(volunteer.username)) == [
        f"您已作为{role}加入 {child.name} ({child.record_number}) 的关爱团队。"
    ]


def test_a_declined_asker_reads_the_childs_name_masked(login):
    child = ChildFactory(region=VILLAGE_B, name="测试孙三")
    request = access_request_create(child=child, by=user("director_a"), reason="孩子已搬到本村")
    access_request_decide(access_request=request, by=user("director_b"), approve=False)
    texts = shown(login("director_a"))
    declined = [t for t in texts if child.record_number in t]
    masked = f"{mask_name(child.name)} ({child.record_number})"
    assert declined == [f"您查看 {masked} 档案的申请被拒绝。"]
    assert child.name not in " ".join(texts)


def test_a_reader_without_the_name_permission_reads_it_masked(login):
    child = village_a_child()
    nobody = UserFactory()  # no role: may read no name whole
    assert not may_see(nobody, "name")
    notify(recipients=[nobody], kind="handover", child=child, params={"region": "河口村"})
    notification = Notification.objects.select_related("child").get(recipient=nobody)
    with translation.override("en"):
        text = render_all([notification], reader=nobody)[0]
    assert text == (
        f"{mask_name(child.name)} ({child.record_number}) has moved to 河口村 and was handed "
        "over to you."
    )


def test_a_code_is_named_in_the_readers_language_not_stored_as_a_label(login):
    mentor = UserFactory(role=Role.MENTOR_TEACHER)
    child = village_a_child()
    care_team_add(child=child, team_role="mentor", user=mentor, by=user("director_a"))
    notification = Notification.objects.select_related("child").get(recipient=mentor)
    assert notification.params == {"team_role": "mentor"}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            label = str(CareTeamMember.TeamRole.MENTOR.label)
            assert label in render_all([notification], reader=mentor)[0]
    with translation.override("en"):
        assert render_all([notification], reader=mentor)[0].endswith("as Mentor teacher.")


def test_old_rows_keep_their_own_text():
    reader = user("director_a")
    old = Notification.objects.create(recipient=reader, kind="retired_kind", text="旧的通知文本")
    half = Notification.objects.create(
        recipient=reader, kind="referral_accepted", text="旧的接收通知", params={}
    )
    assert render_all([old, half], reader=reader) == ["旧的通知文本", "旧的接收通知"]


# The visitor is told of the review.


def test_the_visitor_is_told_when_a_supervisor_reviews_their_flagged_visit(login):
    child = village_a_child()
    visit = flag(child)
    assert not Notification.objects.filter(recipient=user("director_a"), kind="visit_reviewed")
    supervisor = login("supervisor_town")
    url = reverse("followups:visit_detail", args=[visit.pk])
    assert supervisor.post(url, {"note": "已电话核实，安排复访"}).status_code in (200, 302)
    told = Notification.objects.get(recipient=user("director_a"), kind="visit_reviewed")
    assert told.link == url and told.child_id == child.pk
    texts = shown(login("director_a"))
    assert f"{user('supervisor_town')} 已审核您对 {child.name} ({child.record_number}) 的走访" in (
        " ".join(texts)
    )
    # A second review does not stand, and tells nobody again.
    supervisor.post(url, {"note": "再次审核"})
    assert Notification.objects.filter(kind="visit_reviewed", child=child).count() == 1


# The badge, the settings page, the list.


def test_the_unread_count_is_outside_the_folded_menu_on_a_phone(login):
    client = login("mentor")
    child = village_a_child()
    care_team_add(child=child, team_role="mentor", user=user("mentor"), by=user("director_a"))
    unread = Notification.objects.filter(recipient=user("mentor"), read_at__isnull=True).count()
    html = client.get("/").content.decode()
    bell = html.index('data-testid="notifications-bell"')
    badge = html.index('data-testid="unread-badge"')
    assert bell < badge < html.index('id="mainnav"')  # before the collapsing menu
    assert re.search(rf'data-testid="unread-badge">{unread}<', html)
    assert f'href="{reverse("followups:notifications")}" data-testid="notifications-bell"' in html
    client.post(reverse("followups:notification_read"))
    assert 'data-testid="unread-badge"' not in client.get("/").content.decode()


def test_the_badge_counts_recent_unread_and_its_count_skips_old_months(login):
    """The bell counts the unread of the last NOTIFICATION_BADGE_DAYS: planned over those months'
    partitions only, however many months the table holds; an older unread one stays listed."""
    from datetime import timedelta

    from core.notifications import unread_badge_count
    from core.partitions import ensure_monthly_partitions

    mentor = user("mentor")
    Notification.objects.filter(recipient=mentor).update(read_at=timezone.now())
    old_day = timezone.now() - timedelta(days=settings.NOTIFICATION_BADGE_DAYS + 40)
    ensure_monthly_partitions(since=old_day.date())
    Notification.objects.create(recipient=mentor, kind="tasks_due", params={"overdue": 1})
    with connection.cursor() as cursor:  # sent long ago (created_at is set on insert)
        cursor.execute(
            "INSERT INTO followups_notification (kind, params, text, link, created_at, "
            "recipient_id) VALUES ('tasks_due', '{\"overdue\": 2}', '', '', %s, %s)",
            [old_day, mentor.pk],
        )
    assert unread_badge_count(mentor) == 1
    html = login("mentor").get("/").content.decode()
    assert re.search(r'data-testid="unread-badge">1<', html)
    listing = login("mentor").get(reverse("followups:notifications")).content.decode()
    # Both unread ones are listed (in bold), the old one too.
    assert listing.count('fw-semibold" type="submit" data-testid="notification"') == 2

    with CaptureQueriesContext(connection) as seen:
        unread_badge_count(mentor)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + seen.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    old_partition = f"followups_notification_p{old_day:%Y_%m}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [old_partition])
        assert cursor.fetchone()[0] is not None  # the month exists, and the count skips it
    assert old_partition not in plan, plan


def test_each_user_chooses_how_they_are_told(login):
    someone = UserFactory(role=Role.SOCIAL_WORKER)
    assert not NotificationPreference.objects.filter(user=someone).exists()
    client = login(someone.username)
    listing = client.get(reverse("followups:notifications")).content.decode()
    assert reverse("followups:notification_settings") in listing
    page = client.get(reverse("followups:notification_settings")).content.decode()
    # Without a row, the defaults: Chinese, e-mail on, no text messages, no digest.
    assert re.search(r'value="zh-hans"[^>]*checked', page)
    assert re.search(r'name="by_email"[^>]*checked', page)
    assert not re.search(r'name="by_sms"[^>]*checked', page)
    response = client.post(
        reverse("followups:notification_settings"),
        {"language": "en", "by_sms": "on", "daily_digest": "on"},
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    saved = NotificationPreference.objects.get(user=someone)
    assert (saved.language, saved.by_email, saved.by_sms, saved.daily_digest) == (
        "en",
        False,
        True,
        True,
    )
    assert (
        "Your notification settings were saved."
        in client.get(reverse("followups:notification_settings")).content.decode()
    )
    # Another user's choices are untouched.
    assert notification_preference(user("mentor")).language == "zh-hans"


def test_a_bad_language_is_refused(login):
    client = login("director_b")
    response = client.post(reverse("followups:notification_settings"), {"language": "fr"})
    assert response.status_code == 200
    assert not NotificationPreference.objects.filter(user=user("director_b")).exists()


def test_the_notifications_page_costs_the_same_queries_for_3_or_25(login):
    reader = UserFactory(role=Role.CHILD_DIRECTOR, jurisdiction=[VILLAGE_A])
    client = login(reader.username)
    children = [village_a_child() for _ in range(3)]

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("followups:notifications")).status_code == 200
        return len(queries)

    for child in children:
        notify(recipients=[reader], kind="flagged_visit", child=child, params={"visit": 1})
    few = count()
    for n in range(22):
        notify(
            recipients=[reader],
            kind="alert",
            child=children[n % 3],
            params={"alert": n, "reason": "severe_result"},
        )
    assert count() == few


@pytest.mark.usefixtures("demo_world")
def test_the_kept_badge_follows_a_new_notification_and_a_read_on_the_next_page():
    """The count is kept between pages (no count query), and is forgotten the moment the user
    is told something or reads: the next page shows the change. (Committed: a count is kept
    only once the request that made it commits.)"""
    from tests.conftest import client_for

    mentor = user("mentor")
    Notification.objects.filter(recipient=mentor).update(read_at=timezone.now())
    client = client_for("mentor")

    def badge() -> tuple[str | None, list[str]]:
        with CaptureQueriesContext(connection) as seen:
            html = client.get("/").content.decode()
        found = re.search(r'data-testid="unread-badge">(\d+)<', html)
        return (found.group(1) if found else None), [q["sql"] for q in seen.captured_queries]

    assert badge()[0] is None
    shown, queries = badge()
    assert shown is None and not any("followups_notification" in sql for sql in queries)
    notify(recipients=[mentor], kind="tasks_due", params={"overdue": 1}, in_app_only=True)
    assert badge()[0] == "1"
    client.post(reverse("followups:notification_read"))
    assert badge()[0] is None
