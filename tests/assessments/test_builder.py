"""The instrument builder: the line format, validation shown on the right field, versions
(in place without results, a new version with results or when built in), the preview, the
list, and who may use it."""

from __future__ import annotations

from copy import deepcopy

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from assessments.builder.services import (
    InstrumentDetails,
    details_of,
    instrument_create,
    instrument_revise,
)
from assessments.builder.text import definition_from_text, definition_to_text
from assessments.builtin import BUILTIN
from assessments.models import Assessment, Instrument
from assessments.selectors import current_instruments
from assessments.services import assessment_submit
from cases.models import Child, RiskLevel
from tests.conftest import client_for, user

pytestmark = pytest.mark.django_db

OPTIONS = """0 = 不符合 | Not true
1 = 有点符合 | Somewhat true
2 = 完全符合 | Certainly true"""
ITEMS = """# emotional symptoms
1. 我经常头痛 | I get a lot of headaches [emotional]
2. 我心情很平静 | I feel calm [R] [emotional]

# conduct
3. 我经常发脾气 | I often lose my temper [conduct]
4. 我通常听从大人的话 | I usually do as I am told [R] [conduct]
5. 我从不说谎 | I never tell lies [lie]
6. 我从不生气 | I never get angry [lie]"""
SUBSCALES = """emotional = 情绪症状 | Emotional symptoms
conduct = 品行问题 | Conduct problems
lie = 掩饰 | Lie scale [validity >= 3]"""
BANDS = """total 0-3 = 正常 | Normal : none
total 4-5 = 临界 | Borderline : low
total 6-8 = 异常 | Abnormal : moderate
emotional 0-2 = 正常 | Normal : none
emotional 3-4 = 偏高 | High : moderate"""
CRITICAL = "1 >= 2 : high = 经常头痛 | Frequent headaches"


def form_data(**changes: str | None) -> dict[str, str]:
    data = {
        "code": "SDQ-T",
        "name_zh": "长处和困难问卷（测试）",
        "name_en": "Strengths and Difficulties (test)",
        "description": "请根据过去六个月的情况回答。",
        "source": "Goodman R. J Child Psychol Psychiatry. 1997;38:581-586.",
        "licence_note": "Entered by the agency under its own licence (test).",
        "min_age": "11",
        "max_age": "17",
        "is_active": "on",
        "options": OPTIONS,
        "items": ITEMS,
        "subscales": SUBSCALES,
        "bands": BANDS,
        "critical": CRITICAL,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def english(username: str = "admin") -> Client:
    client = client_for(username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def admin() -> Client:
    return client_for("admin")


def create_url() -> str:
    return reverse("assessments:instrument_create")


def edit_form(client: Client, instrument: Instrument) -> dict[str, str]:
    """What the edit page puts in its form, as a browser would send it back."""
    form = client.get(reverse("assessments:instrument_edit", args=[instrument.pk])).context["form"]
    data = {name: form[name].value() for name in form.fields if name != "code"}
    data["is_active"] = "on" if data["is_active"] else None
    return {k: str(v) for k, v in data.items() if v is not None}


def make_instrument(**changes: str | None) -> Instrument:
    parsed = definition_from_text(form_data(**changes))
    assert parsed.is_valid, parsed.errors
    return instrument_create(
        code="SDQ-T",
        details=InstrumentDetails(
            name_zh="长处和困难问卷（测试）",
            name_en="SDQ (test)",
            description="",
            source="Goodman 1997",
            licence_note="Agency licence",
            min_age=11,
            max_age=17,
            is_active=True,
        ),
        definition=parsed.data,
        by=user("admin"),
    )


def record_result(instrument: Instrument) -> Assessment:
    """A real result recorded against the instrument, through the assessment service."""
    definition = instrument.parsed
    answers = {int(i["number"]): definition.values[0] for i in definition.items}
    # A child the instrument fits: the service refuses any other.
    child = next(
        c
        for c in Child.objects.filter(residence_region_id="990101001001").order_by("id")
        if instrument.fits_age(c.age())
    )
    return assessment_submit(
        child=child,
        instrument=instrument,
        answers=answers,
        result=definition.score(answers),
        setting=Assessment.Setting.OTHER,
        administered_on=timezone.localdate(),
        by=user("director_a"),
    )


# -- creating and scoring -----------------------------------------------------------------------


def test_create_with_reverse_items_subscales_and_a_validity_scale(admin):
    response = admin.post(create_url(), form_data())
    instrument = Instrument.objects.get(code="SDQ-T")
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:instrument_detail", args=[instrument.pk])
    assert instrument.version == 1
    assert not instrument.is_builtin
    assert instrument.created_by == user("admin")
    assert instrument.languages == ["zh-hans", "en"]
    definition = instrument.parsed
    assert definition.errors() == []
    assert [i["reverse"] for i in definition.items] == [False, True, False, True, False, False]
    assert definition.items[1]["subscales"] == ["emotional"]
    assert definition.bounds("total") == (0, 8)  # the lie items do not count

    # Reverse items count (0 + 2 - answer); subscales add up their items.
    result = definition.score({1: 2, 2: 0, 3: 1, 4: 2, 5: 2, 6: 1})
    assert result.subscales == {"emotional": 2 + 2, "conduct": 1 + 0, "lie": 3}
    assert result.total == 5
    assert result.band is not None and result.band.label["en"] == "Borderline"
    assert result.subscale_bands["emotional"].label["en"] == "High"
    assert result.critical_items == [1]
    assert result.risk == RiskLevel.HIGH  # the critical answer outranks both bands
    assert result.valid is False  # lie scale 3 reaches its threshold

    calm = definition.score({1: 0, 2: 2, 3: 0, 4: 2, 5: 0, 6: 1})
    assert calm.subscales == {"emotional": 0, "conduct": 0, "lie": 1}
    assert calm.total == 0
    assert calm.risk == RiskLevel.NONE
    assert calm.valid is True
    assert not calm.is_critical


def test_created_instrument_is_offered_for_assessments():
    instrument = make_instrument()
    assert instrument in current_instruments()


def test_an_existing_code_is_refused_whatever_its_case(admin):
    response = admin.post(create_url(), form_data(code="phq-9"))
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert not Instrument.objects.filter(code="phq-9").exists()


# -- refusals: a clear message on the right field, nothing saved -----------------------------------


def refused(client: Client, url: str, data: dict[str, str], field: str) -> list[str]:
    before = Instrument.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert Instrument.objects.count() == before
    errors = response.context["form"].errors
    assert field in errors, errors
    html = response.content.decode()
    for message in errors[field]:
        assert escape(str(message)) in html  # shown on the page
    return [str(m) for m in errors[field]]


def test_overlapping_bands_are_refused_on_the_bands_field():
    bands = "total 0-3 = 正常 : none\ntotal 3-5 = 临界 : low\ntotal 6-8 = 异常 : high"
    messages = refused(english(), create_url(), form_data(bands=bands), "bands")
    assert messages == ["Bands of the total overlap: 0–3 and 3–5."]


def test_overlap_is_reported_in_the_users_language(admin):
    bands = "total 0-5 = 正常 : none\ntotal 4-8 = 异常 : high"
    messages = refused(admin, create_url(), form_data(bands=bands), "bands")  # Chinese by default
    assert messages == ["总分的分级重叠：0–5 与 4–8。"]


def test_a_gap_between_bands_is_refused():
    bands = "total 0-3 = 正常 : none\ntotal 5-8 = 异常 : high"
    messages = refused(english(), create_url(), form_data(bands=bands), "bands")
    assert messages == ["No band of the total covers the scores 4–4."]


def test_bands_of_a_subscale_must_cover_it():
    bands = BANDS.replace("emotional 3-4", "emotional 3-3")
    messages = refused(english(), create_url(), form_data(bands=bands), "bands")
    assert messages == ["No band of emotional covers the scores 4–4."]


def test_a_bad_line_is_refused_with_its_line_number():
    items = ITEMS.replace("3. 我经常发脾气", "我经常发脾气")  # the number is missing on line 6
    messages = refused(english(), create_url(), form_data(items=items), "items")
    assert len(messages) == 1
    assert messages[0].startswith("Line 6: ")


def test_an_undefined_subscale_tag_is_refused_with_its_line_number():
    items = ITEMS.replace("[conduct]", "[condcut]", 1)
    messages = refused(english(), create_url(), form_data(items=items), "items")
    assert messages == ["Line 6: [condcut] is not a subscale listed under subscales."]


def test_an_option_line_without_a_value_is_refused():
    options = OPTIONS + "\n完全不符合 | Not at all"
    messages = refused(english(), create_url(), form_data(options=options), "options")
    assert messages[0].startswith("Line 4: ")


def test_an_unknown_risk_word_in_a_band_is_refused():
    bands = BANDS.replace(": moderate", ": severe", 1)
    messages = refused(english(), create_url(), form_data(bands=bands), "bands")
    assert messages[0].startswith("Line 3: ")


def test_items_with_a_gap_in_their_numbers_are_refused():
    items = ITEMS.replace("6. 我从不生气", "7. 我从不生气")
    messages = refused(english(), create_url(), form_data(items=items), "items")
    assert messages == ["Items must be numbered 1, 2, 3… without gaps or repeats."]


def test_a_critical_rule_on_a_missing_question_is_refused():
    messages = refused(
        english(),
        create_url(),
        form_data(critical="12 >= 1 : crisis = 自伤 | Self-harm"),
        "critical",
    )
    assert messages == ["A critical rule names item 12, which does not exist."]


def test_a_critical_rule_with_a_value_no_option_has_is_refused():
    messages = refused(
        english(), create_url(), form_data(critical="1 >= 3 : high = 头痛 | Headaches"), "critical"
    )
    assert messages == ["A critical rule on item 1 uses a value no option has."]


def test_a_critical_rule_that_does_not_parse_is_refused_with_its_line_number():
    critical = "1 >= 2 : high = 头痛 | Headaches\n9 : crisis"
    messages = refused(english(), create_url(), form_data(critical=critical), "critical")
    assert len(messages) == 1 and messages[0].startswith("Line 2: ")


def test_a_broken_line_does_not_also_report_a_false_gap():
    bands = BANDS.replace("total 4-5 = 临界 | Borderline : low", "total 4-5 临界")
    messages = refused(english(), create_url(), form_data(bands=bands), "bands")
    assert len(messages) == 1 and messages[0].startswith("Line 2: ")


def test_every_problem_is_shown_at_once_each_on_its_field():
    client = english()
    response = client.post(
        create_url(),
        form_data(
            bands="total 0-4 = 正常 : none\ntotal 4-8 = 异常 : high",
            critical="40 >= 1 : crisis = 自伤",
            min_age="15",
            max_age="12",
        ),
    )
    errors = response.context["form"].errors
    assert set(errors) == {"bands", "critical", "max_age"}
    assert not Instrument.objects.filter(code="SDQ-T").exists()


# -- versions -------------------------------------------------------------------------------------


def test_editing_an_instrument_with_results_makes_version_2_and_leaves_version_1(admin):
    v1 = make_instrument()
    record_result(v1)
    before = deepcopy(Instrument.objects.get(pk=v1.pk).definition)
    data = edit_form(admin, v1)
    data["bands"] = data["bands"].replace("total 4-5", "total 4-4").replace("6-8", "5-8")
    data["name_zh"] = "长处和困难问卷（测试，第二版）"
    response = admin.post(reverse("assessments:instrument_edit", args=[v1.pk]), data)
    v2 = Instrument.objects.get(code="SDQ-T", version=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:instrument_detail", args=[v2.pk])
    v1.refresh_from_db()
    assert v1.definition == before
    assert v1.name_zh == "长处和困难问卷（测试）"
    assert v1.results.count() == 1
    assert v2.results.count() == 0
    assert v2.name_zh == "长处和困难问卷（测试，第二版）"
    assert v2.parsed.band_for("total", 5).label["en"] == "Abnormal"  # type: ignore[union-attr]
    assert v2.created_by == user("admin")
    assert list(current_instruments().filter(code="SDQ-T")) == [v2]


def test_editing_an_instrument_without_results_changes_it_in_place(admin):
    v1 = make_instrument()
    data = edit_form(admin, v1)
    data["items"] = data["items"].replace("我经常头痛", "我常常头痛")
    response = admin.post(reverse("assessments:instrument_edit", args=[v1.pk]), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:instrument_detail", args=[v1.pk])
    assert Instrument.objects.filter(code="SDQ-T").count() == 1
    v1.refresh_from_db()
    assert v1.version == 1
    assert v1.definition["items"][0]["text"]["zh-hans"] == "我常常头痛"


def test_saving_without_a_change_saves_nothing(admin):
    v1 = make_instrument()
    record_result(v1)
    response = admin.post(
        reverse("assessments:instrument_edit", args=[v1.pk]), edit_form(admin, v1)
    )
    assert response.status_code == 302
    assert Instrument.objects.filter(code="SDQ-T").count() == 1


def test_taking_a_version_with_results_out_of_use_is_not_a_new_version(admin):
    v1 = make_instrument()
    record_result(v1)
    data = edit_form(admin, v1)
    del data["is_active"]
    admin.post(reverse("assessments:instrument_edit", args=[v1.pk]), data)
    v1.refresh_from_db()
    assert not v1.is_active
    assert Instrument.objects.filter(code="SDQ-T").count() == 1
    assert not current_instruments().filter(code="SDQ-T").exists()


def test_a_builtin_is_copied_into_a_new_version_and_never_changed(admin):
    phq9 = Instrument.objects.get(code="PHQ-9", version=1)
    spec = next(s for s in BUILTIN if s["code"] == "PHQ-9")
    data = edit_form(admin, phq9)
    assert "9. 有不如死掉或用某种方式伤害自己的念头" in data["items"]
    data["items"] = data["items"].replace("做事时提不起劲或没有兴趣", "做事时提不起劲或没兴趣")
    response = admin.post(reverse("assessments:instrument_edit", args=[phq9.pk]), data)
    assert response.status_code == 302
    phq9.refresh_from_db()
    assert phq9.definition == spec["definition"]
    assert phq9.is_builtin and phq9.is_active
    v2 = Instrument.objects.get(code="PHQ-9", version=2)
    assert not v2.is_builtin
    assert v2.definition["items"][0]["text"]["zh-hans"] == "做事时提不起劲或没兴趣"
    assert v2.definition["critical"] == spec["definition"]["critical"]


def test_a_builtin_saved_unchanged_is_refused(admin):
    phq9 = Instrument.objects.get(code="PHQ-9", version=1)
    data = edit_form(admin, phq9)
    del data["is_active"]  # only taking it out of use: still a change to version 1
    response = admin.post(reverse("assessments:instrument_edit", args=[phq9.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    phq9.refresh_from_db()
    assert phq9.is_active
    assert Instrument.objects.filter(code="PHQ-9").count() == 1


def test_two_editors_of_one_version_get_a_conflict_not_an_overwrite(admin):
    v1 = make_instrument()
    stale = edit_form(admin, v1)
    first = edit_form(admin, v1)
    first["name_en"] = "Changed by the first editor"
    assert (
        admin.post(reverse("assessments:instrument_edit", args=[v1.pk]), first).status_code == 302
    )
    stale["name_en"] = "Changed by the second editor"
    response = admin.post(reverse("assessments:instrument_edit", args=[v1.pk]), stale)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    v1.refresh_from_db()
    assert v1.name_en == "Changed by the first editor"


def test_a_revision_gets_the_number_after_the_newest_version():
    v1 = make_instrument()
    record_result(v1)
    details = details_of(v1)
    changed = {**v1.definition, "critical": []}
    v2 = instrument_revise(instrument=v1, details=details, definition=changed, by=user("admin"))
    assert (v2.outcome, v2.instrument.version) == ("new_version", 2)
    # Revising the old version again does not reuse number 2.
    again = {**v1.definition, "subscales": v1.definition["subscales"]}
    again["critical"] = [{**v1.definition["critical"][0], "risk": 4}]
    v3 = instrument_revise(instrument=v1, details=details, definition=again, by=user("admin"))
    assert (v3.outcome, v3.instrument.version) == ("new_version", 3)


# -- definition ↔ text ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", BUILTIN, ids=lambda s: s["code"])
def test_every_builtin_round_trips_through_the_text_format(spec):
    parsed = definition_from_text(definition_to_text(spec["definition"]))
    assert parsed.errors == {}
    assert parsed.data == spec["definition"]


def test_full_width_punctuation_is_understood():
    parsed = definition_from_text(
        {
            "options": "0 ＝ 否 ｜ No\n1 ＝ 是 ｜ Yes",
            "items": "1、我很难过 ｜ I am sad 【R】",
            # A risk level may also be written with its Chinese name (中, 危急).
            "bands": "总分 0-0 ＝ 正常 ： none\n总分 1-1 ＝ 难过 ： 中",
            "critical": "1 ≥ 1 ： 危急 ＝ 难过",
        }
    )
    assert parsed.errors == {}
    assert parsed.data["items"][0]["reverse"] is True
    assert parsed.data["bands"][0]["scale"] == "total"
    assert [b["risk"] for b in parsed.data["bands"]] == [RiskLevel.NONE, RiskLevel.MODERATE]
    assert parsed.data["critical"][0]["risk"] == RiskLevel.CRISIS
    assert parsed.data["options"][1]["label"] == {"zh-hans": "是", "en": "Yes"}


# -- preview -------------------------------------------------------------------------------------


def test_preview_saves_nothing_and_shows_questions_and_bands(admin):
    before = Instrument.objects.count()
    response = admin.post(
        reverse("assessments:instrument_preview"), form_data(), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "我经常头痛" in html and "完全符合" in html
    assert 'data-scale="total"' in html and 'data-scale="emotional"' in html
    assert html.count('data-testid="preview-band"') == 5
    assert "临界" in html
    assert 'data-testid="preview-problems"' not in html
    assert Instrument.objects.count() == before


def test_preview_lists_the_problems(admin):
    bands = "total 0-5 = 正常 : none\ntotal 4-8 = 异常 : high"
    response = admin.post(
        reverse("assessments:instrument_preview"), form_data(bands=bands), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'data-testid="preview-problems"' in html
    assert "0–5 与 4–8" in html


def test_preview_without_javascript_saves_nothing(admin):
    before = Instrument.objects.count()
    response = admin.post(create_url(), {**form_data(), "preview": "1"})
    assert response.status_code == 200
    assert 'data-testid="instrument-preview"' in response.content.decode()
    assert Instrument.objects.count() == before
    v1 = make_instrument()
    data = {**edit_form(admin, v1), "name_en": "Not saved", "preview": "1"}
    response = admin.post(reverse("assessments:instrument_edit", args=[v1.pk]), data)
    assert response.status_code == 200
    v1.refresh_from_db()
    assert v1.name_en == "SDQ (test)"
    # The plain preview page (htmx posting without htmx) saves nothing either.
    response = admin.post(reverse("assessments:instrument_preview"), form_data())
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert Instrument.objects.count() == before + 1


# -- pages ----------------------------------------------------------------------------------------


def test_list_shows_each_code_with_versions_result_counts_and_status(admin):
    v1 = make_instrument()
    record_result(v1)
    instrument_revise(
        instrument=v1,
        details=details_of(v1),
        definition={**v1.definition, "critical": []},
        by=user("admin"),
    )
    response = admin.get(reverse("assessments:instrument_list"))
    codes = {entry["code"]: entry for entry in response.context["codes"]}
    assert {"PHQ-9", "GAD-7", "K6", "K10", "SDQ-T"} <= set(codes)
    versions = [
        (v["instrument"].version, v["instrument"].result_count, v["status"])
        for v in codes["SDQ-T"]["versions"]
    ]
    assert versions == [(2, 0, "current"), (1, 1, "superseded")]


def test_list_query_count_does_not_grow_with_versions(admin):
    url = reverse("assessments:instrument_list")
    with CaptureQueriesContext(connection) as few:
        assert admin.get(url).status_code == 200
    v1 = make_instrument()
    record_result(v1)
    for risk in (1, 2, 3):
        rule = {**v1.definition["critical"][0], "risk": risk}
        instrument_revise(
            instrument=v1,
            details=details_of(v1),
            definition={**v1.definition, "critical": [rule]},
            by=user("admin"),
        )
    with CaptureQueriesContext(connection) as many:
        assert admin.get(url).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_detail_and_edit_pages_render(admin):
    phq9 = Instrument.objects.get(code="PHQ-9", version=1)
    detail = admin.get(reverse("assessments:instrument_detail", args=[phq9.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert 'data-testid="instrument-preview"' in html
    assert "9 &gt;= 1 : crisis" in html  # the definition as text
    edit = admin.get(reverse("assessments:instrument_edit", args=[phq9.pk]))
    assert edit.status_code == 200
    assert 'data-testid="version-note"' in edit.content.decode()


def test_a_new_instrument_can_start_from_a_copy(admin):
    k6 = Instrument.objects.get(code="K6", version=1)
    response = admin.get(create_url(), {"copy": k6.pk})
    form = response.context["form"]
    assert form["code"].value() in (None, "")
    assert form["items"].value() == definition_to_text(k6.definition)["items"]


def test_a_missing_instrument_is_404(admin):
    missing = Instrument.objects.order_by("-pk")[0].pk + 1000
    assert admin.get(reverse("assessments:instrument_detail", args=[missing])).status_code == 404
    assert admin.get(reverse("assessments:instrument_edit", args=[missing])).status_code == 404


NOT_ADMINS = ["director_a", "counselor", "clinician", "county_civil", "security", "auditor"]


@pytest.mark.parametrize("username", NOT_ADMINS)
def test_other_roles_get_403_everywhere(username):
    client = client_for(username)
    phq9 = Instrument.objects.get(code="PHQ-9", version=1)
    before = Instrument.objects.count()
    for url in (
        reverse("assessments:instrument_list"),
        reverse("assessments:instrument_detail", args=[phq9.pk]),
        create_url(),
        reverse("assessments:instrument_edit", args=[phq9.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(create_url(), form_data()).status_code == 403
    assert client.post(reverse("assessments:instrument_preview"), form_data()).status_code == 403
    data = {**form_data(), "code": "PHQ-9"}
    assert (
        client.post(reverse("assessments:instrument_edit", args=[phq9.pk]), data).status_code == 403
    )
    assert Instrument.objects.count() == before


def test_anonymous_users_are_sent_to_sign_in():
    response = Client().get(reverse("assessments:instrument_list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
