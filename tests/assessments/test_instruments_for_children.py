"""Issue 10: strict answers (finding 6), one risk mapping and faithful wording (finding 7), and
instruments for every age and respondent (PSC-17, CES-DC, "no instrument for this age").

Expected scores are computed by hand from the published scoring, written out here rather than
read from builtin.py.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.builtin import sync
from assessments.models import Alert, Assessment, Instrument
from assessments.screening.roster import Group
from assessments.screening.services import screening_session_open
from assessments.screening.summary import session_summary
from cases.models import Child, Consent, RiskLevel
from tests.demo import MIDDLE_SCHOOL, user
from tests.factories import ConsentFactory
from tests.factories.assessments import AssessmentFactory
from tests.factories.cases import ChildFactory
from tests.factories.institutions import institution

pytestmark = pytest.mark.django_db

API = "/api/v1/assessments/"
NONE, LOW, MODERATE, HIGH, CRISIS = (
    RiskLevel.NONE,
    RiskLevel.LOW,
    RiskLevel.MODERATE,
    RiskLevel.HIGH,
    RiskLevel.CRISIS,
)


def consented_pupil(**fields) -> Child:
    """A pupil of the counsellor's school (13 unless said) with consent to assessment."""
    child = ChildFactory(pupil=True, **fields)
    ConsentFactory(child=child, purpose=Consent.Purpose.ASSESSMENT, by=user("counselor"))
    return child


def years_ago(years: int) -> date:
    return date(timezone.localdate().year - years, 1, 1)


def post(client, child: Child, code: str, answers: dict) -> object:
    return client.post(
        API,
        {"child": child.pk, "instrument": code, "answers": answers},
        content_type="application/json",
    )


def all_items(n: int, value: int = 0, **given: int) -> dict[str, int]:
    """Answers to items 1..n, each `value` unless given as i<number>=…"""
    answers = {str(k): value for k in range(1, n + 1)}
    answers.update({key[1:]: v for key, v in given.items()})
    return answers


# -- finding 6: strict answers --------------------------------------------------------------------


class TestStrictAnswers:
    @pytest.mark.parametrize(
        ("answers", "named"),
        [
            ({**all_items(9), "01": 3}, "01"),  # "01" is not a key (it was read as item 1 = 3)
            ({**all_items(9), "2": "2"}, "2"),  # a string
            ({**all_items(9), "3": 1.0}, "3"),  # a decimal
            ({**all_items(9), "4": True}, "4"),  # a boolean
            ({**all_items(9), " 5": 1}, " 5"),  # not exactly a key
            ({**all_items(9), "9": [1]}, "9"),
        ],
        ids=["leading-zero-key", "string", "float", "bool", "spaced-key", "list"],
    )
    def test_the_api_refuses_anything_but_the_item_keys_and_whole_numbers(
        self, login, answers, named
    ):
        child = consented_pupil()
        response = post(login("counselor"), child, "PHQ-9", answers)
        assert response.status_code == 400, response.content
        assert f"answers.{named}" in response.json()["fields"]
        assert not Assessment.objects.filter(child=child).exists()

    def test_the_issues_example_is_not_stored_as_item_1_equal_3(self, login):
        child = consented_pupil()
        response = post(login("counselor"), child, "PHQ-9", {**all_items(9, i1=1), "01": 3})
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"answers.01"}
        assert not Assessment.objects.filter(child=child).exists()

    def test_a_key_given_twice_in_the_json_is_refused(self, login):
        child = consented_pupil()
        rest = ", ".join(f'"{n}": 0' for n in range(2, 10))
        body = (
            f'{{"child": {child.pk}, "instrument": "PHQ-9", "answers": {{"1": 0, "1": 3, {rest}}}}}'
        )
        response = login("counselor").post(API, body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == "parse_error"
        assert '"1"' in response.json()["message"]
        assert not Assessment.objects.filter(child=child).exists()

    def test_whole_numbers_of_the_options_are_accepted(self, login):
        child = consented_pupil()
        response = post(login("counselor"), child, "PHQ-9", all_items(9, 1))
        assert response.status_code == 201, response.content
        assert response.json()["total"] == 9

    def test_the_form_uses_the_same_rule(self):
        definition = Instrument.objects.get(code="GAD-7", version=1).parsed
        answers, errors = definition.read_answers({**all_items(7), "07": 2, "3": "1"})
        assert set(errors) == {"07", "3"}
        answers, errors = definition.read_answers(all_items(7, 2))
        assert errors == {} and answers == dict.fromkeys(range(1, 8), 2)


# -- finding 7: one risk mapping, faithful wording -----------------------------------------------


class TestRiskMappingAndWording:
    def test_k6_and_k10_moderate_distress_give_the_same_risk(self, login):
        client = login("counselor")
        k6 = post(client, consented_pupil(), "K6", all_items(6, 0, i1=3, i2=2))  # 5: moderate
        k10 = post(client, consented_pupil(), "K10", all_items(10, 1, i1=5, i2=3))  # 16
        assert (k6.json()["total"], k10.json()["total"]) == (5, 16)
        assert k6.json()["risk_level"] == k10.json()["risk_level"] == MODERATE

    def test_k10_high_distress_raises_an_alert_like_the_k6(self, login):
        client = login("counselor")
        k10_child, k6_child = consented_pupil(), consented_pupil()
        k10 = post(client, k10_child, "K10", all_items(10, 2, i1=4))  # 22: high
        k6 = post(client, k6_child, "K6", all_items(6, 2, i1=3))  # 13: probable serious
        assert (k10.json()["total"], k6.json()["total"]) == (22, 13)
        assert k10.json()["risk_level"] == k6.json()["risk_level"] == HIGH
        assert Alert.objects.filter(child=k10_child).count() == 1
        assert Alert.objects.filter(child=k6_child).count() == 1

    def test_phq9_item_7_names_the_newspaper(self):
        item = Instrument.objects.get(code="PHQ-9", version=1).parsed.items[6]
        assert "报纸" in item["text"]["zh-hans"]
        assert "reading the newspaper" in item["text"]["en"]

    def test_k6_item_4_is_so_depressed_not_the_k10s_so_sad(self):
        item = Instrument.objects.get(code="K6", version=1).parsed.items[3]
        assert item["text"]["en"] == "So depressed that nothing could cheer you up"
        assert "沮丧" in item["text"]["zh-hans"]
        k10 = Instrument.objects.get(code="K10", version=1).parsed.items[8]
        assert k10["text"]["en"] == "So sad that nothing could cheer you up"

    def test_phq9_asks_the_difficulty_question_without_scoring_it(self, login):
        client = login("counselor")
        without = post(client, consented_pupil(), "PHQ-9", all_items(9, 1, i9=0))
        extreme = post(client, consented_pupil(), "PHQ-9", {**all_items(9, 1, i9=0), "10": 3})
        assert without.status_code == extreme.status_code == 201
        assert without.json()["total"] == extreme.json()["total"] == 8
        assert without.json()["risk_level"] == extreme.json()["risk_level"] == LOW
        item = Instrument.objects.get(code="PHQ-9", version=1).parsed.items[9]
        assert item["options"][3]["label"] == {"zh-hans": "极其困难", "en": "Extremely difficult"}

    def test_the_form_shows_the_difficulty_question_with_its_own_answers(self, login):
        child = consented_pupil()
        phq9 = Instrument.objects.get(code="PHQ-9", version=1)
        url = reverse("assessments:assessment_create", args=[child.pk])
        page = login("counselor").get(url, {"instrument": phq9.pk}).content.decode()
        assert "如果你勾选了上述任何问题" in page and "极其困难" in page

    def test_a_fix_to_a_builtin_with_results_is_a_new_version(self):
        k6 = Instrument.objects.get(code="K6", version=1)
        old = json.loads(json.dumps(k6.definition))
        old["items"][3]["text"] = {"zh-hans": "伤心得无论怎样都高兴不起来", "en": "So sad…"}
        Instrument.objects.filter(pk=k6.pk).update(definition=old)  # as installed before
        result = AssessmentFactory(child=consented_pupil(), instrument=k6)
        gad7 = Instrument.objects.get(code="GAD-7", version=1)
        Instrument.objects.filter(pk=gad7.pk).update(min_age=13)  # no results: in place
        outcomes = sync(Instrument)
        assert outcomes["K6"] == "new_version"
        assert outcomes["GAD-7"] == "changed_in_place"
        assert outcomes["PHQ-9"] == "unchanged"
        k6.refresh_from_db()
        assert k6.definition == old  # the version with a result is never changed
        v2 = Instrument.objects.get(code="K6", version=2)
        assert v2.is_builtin and v2.definition["items"][3]["text"]["en"].startswith("So depr")
        result.refresh_from_db()
        assert result.instrument_id == k6.pk
        assert Instrument.objects.get(pk=gad7.pk).min_age == 12
        assert sync(Instrument)["K6"] == "unchanged"


# -- item 4: PSC-17 and CES-DC through the API, at every band edge ------------------------------

# PSC-17 items by subscale: attention 1 3 7 13 17; internalising 2 6 9 11 15; externalising
# 4 5 8 10 12 14 16. Answers 0 never, 1 sometimes, 2 often.
PSC17_CASES = [
    # (answers given (others 0), total, internalising, attention, externalising, risk)
    ({}, 0, 0, 0, 0, NONE),
    ({"2": 2, "6": 2}, 4, 4, 0, 0, NONE),
    ({"2": 2, "6": 2, "9": 1}, 5, 5, 0, 0, MODERATE),  # internalising cut-off 5
    ({"1": 2, "3": 2, "7": 2}, 6, 0, 6, 0, NONE),
    ({"1": 2, "3": 2, "7": 2, "13": 1}, 7, 0, 7, 0, MODERATE),  # attention cut-off 7
    ({"4": 2, "5": 2, "8": 2}, 6, 0, 0, 6, NONE),
    ({"4": 2, "5": 2, "8": 2, "10": 1}, 7, 0, 0, 7, MODERATE),  # externalising cut-off 7
    ({"2": 2, "6": 2, "1": 2, "3": 2, "7": 2, "4": 2, "5": 2}, 14, 4, 6, 4, NONE),
    ({"2": 2, "6": 2, "1": 2, "3": 2, "7": 2, "4": 2, "5": 2, "8": 1}, 15, 4, 6, 5, MODERATE),
    ({str(n): 2 for n in range(1, 18)}, 34, 10, 10, 14, MODERATE),
]


@pytest.mark.parametrize(
    ("given", "total", "internalising", "attention", "externalising", "risk"),
    PSC17_CASES,
    ids=[f"total{c[1]}-i{c[2]}-a{c[3]}-e{c[4]}" for c in PSC17_CASES],
)
def test_psc17_total_and_subscales_at_every_cut_off(
    login, given, total, internalising, attention, externalising, risk
):
    response = post(login("counselor"), consented_pupil(), "PSC-17", {**all_items(17), **given})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == total
    assert body["subscales"] == {
        "internalising": internalising,
        "attention": attention,
        "externalising": externalising,
    }
    assert body["risk_level"] == risk
    positive = total >= 15
    assert body["band"] in (
        {"筛查阳性，建议进一步评估", "Positive screen: further assessment"}
        if positive
        else {"低于筛查界值", "Below the screening cut-off"}
    )


# CES-DC: items 4, 8, 12 and 16 are reverse-scored (3 - answer). Every answer 0 scores 12.
CESDC_CASES = [
    # (answers given (others 0), total, risk)
    ({"4": 3, "8": 3, "12": 3, "16": 3}, 0, NONE),  # the lowest total needs the positive items
    ({}, 12, NONE),  # the four positive items answered "not at all" count 3 each
    ({"1": 2}, 14, NONE),
    ({"1": 3}, 15, MODERATE),  # the cut-off
    ({"4": 3, "8": 3, "12": 3, "16": 2, "1": 3, "2": 3, "3": 3, "5": 3, "6": 2}, 15, MODERATE),
    ({"4": 3, "8": 3, "12": 3, "16": 3, "1": 3, "2": 3, "3": 3, "5": 3, "6": 2}, 14, NONE),
    ({str(n): 3 for n in range(1, 21)}, 48, MODERATE),  # reversed items answered 3 count 0
    ({**{str(n): 3 for n in range(1, 21)}, "4": 0, "8": 0, "12": 0, "16": 0}, 60, MODERATE),
]


@pytest.mark.parametrize(
    ("given", "total", "risk"),
    CESDC_CASES,
    ids=[f"total{c[1]}-{i}" for i, c in enumerate(CESDC_CASES)],
)
def test_cesdc_at_every_band_edge_with_its_reverse_scored_items(login, given, total, risk):
    response = post(login("counselor"), consented_pupil(), "CES-DC", {**all_items(20), **given})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == total
    assert body["risk_level"] == risk
    assert body["band"] in (
        {"提示存在抑郁症状", "Suggests depressive symptoms"}
        if total >= 15
        else {"低于筛查界值", "Below the screening cut-off"}
    )


def test_each_instrument_says_who_answers_it():
    respondents = dict(
        Instrument.objects.filter(version=1, is_builtin=True).values_list("code", "respondent")
    )
    assert respondents == {
        "PHQ-9": "child",
        "GAD-7": "child",
        "K6": "child",
        "K10": "child",
        "CES-DC": "child",
        "PSC-17": "guardian_or_teacher",
    }
    ages = {i.code: (i.min_age, i.max_age) for i in Instrument.objects.filter(is_builtin=True)}
    assert ages["PSC-17"] == (4, 16) and ages["CES-DC"] == (6, 17)


def test_the_form_says_who_answers(login):
    child = consented_pupil(birth_date=years_ago(7))
    psc17 = Instrument.objects.get(code="PSC-17", version=1)
    url = reverse("assessments:assessment_create", args=[child.pk])
    client = login("counselor")
    choice = client.get(url).content.decode()
    assert "PSC-17" in choice and "CES-DC" in choice and "PHQ-9" not in choice
    page = client.get(url, {"instrument": psc17.pk}).content.decode()
    assert 'data-testid="respondent"' in page and "监护人或老师" in page


def test_a_seven_year_old_can_be_screened_with_the_cesdc(login):
    child = consented_pupil(birth_date=years_ago(7))
    response = post(login("counselor"), child, "CES-DC", all_items(20, 1))
    assert response.status_code == 201, response.content
    assert response.json()["total"] == 16 * 1 + 4 * 2


# -- no instrument for this age ------------------------------------------------------------------


def test_a_child_no_instrument_fits_shows_no_instrument_instead_of_a_due_date(login):
    toddler = ChildFactory(birth_date=years_ago(2))
    page = (
        login("county_civil").get(reverse("cases:child_detail", args=[toddler.pk])).content.decode()
    )
    assert 'data-testid="no-instrument"' in page
    assert "没有适合这个年龄的量表" in page
    assert (
        timezone.localdate().strftime("%Y-%m-%d")
        not in page.split('data-testid="next-due"')[1][:200]
    )
    five = ChildFactory(birth_date=years_ago(5))  # the PSC-17 fits from 4
    page = login("county_civil").get(reverse("cases:child_detail", args=[five.pk])).content.decode()
    assert 'data-testid="no-instrument"' not in page
    assert (
        timezone.localdate().strftime("%Y-%m-%d") in page.split('data-testid="next-due"')[1][:200]
    )


def test_screening_summaries_count_children_no_instrument_fits(login):
    counselor = user("counselor")
    group = Group(
        key="", label="", size=0, school=institution(MIDDLE_SCHOOL), grade=8, class_name="1班"
    )
    session = screening_session_open(
        group=group,
        instrument=Instrument.objects.get(code="CES-DC", version=1),
        administered_on=timezone.localdate(),
        title="",
        by=counselor,
    )
    ChildFactory(pupil=True, birth_date=years_ago(3))
    ChildFactory(pupil=True, birth_date=years_ago(2))
    assert session_summary(session=session, user=counselor).no_instrument == 2
    page = (
        login("counselor")
        .get(reverse("assessments:screening_summary", args=[session.pk]))
        .content.decode()
    )
    assert 'data-testid="no-instrument" data-count="2"' in page
