"""The built-in instruments: only questionnaires free to reproduce, with their published scoring.

The Chinese wording follows the Chinese versions in common use; an agency that has a validated
translation of its own can add it as a new version in the instrument builder.
"""

from __future__ import annotations

from typing import Any

NONE, LOW, MODERATE, HIGH, CRISIS = 0, 1, 2, 3, 4


def _options(rows: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    return [{"value": v, "label": {"zh-hans": zh, "en": en}} for v, zh, en in rows]


def _items(rows: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {
            "number": n,
            "text": {"zh-hans": zh, "en": en},
            "reverse": False,
            "subscales": [],
            "required": True,
        }
        for n, (zh, en) in enumerate(rows, start=1)
    ]


def _bands(rows: list[tuple[int, int, str, str, int]]) -> list[dict[str, Any]]:
    return [
        {"scale": "total", "min": lo, "max": hi, "label": {"zh-hans": zh, "en": en}, "risk": risk}
        for lo, hi, zh, en, risk in rows
    ]


FREQUENCY_2_WEEKS = _options(
    [
        (0, "完全不会", "Not at all"),
        (1, "好几天", "Several days"),
        (2, "一半以上的天数", "More than half the days"),
        (3, "几乎每天", "Nearly every day"),
    ]
)

PHQ9 = {
    "code": "PHQ-9",
    "name_zh": "患者健康问卷抑郁量表（PHQ-9）",
    "name_en": "Patient Health Questionnaire depression scale (PHQ-9)",
    "description": "在过去两周里，以下问题困扰你的频率有多少？ / Over the last two weeks, how "
    "often have you been bothered by any of the following problems?",
    "source": "Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression "
    "severity measure. J Gen Intern Med. 2001;16(9):606-613. Severity bands 0-4, 5-9, 10-14, "
    "15-19, 20-27 as published.",
    "licence_note": "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
    "colleagues, with an educational grant from Pfizer Inc. No permission is required to "
    "reproduce, translate, display or distribute.",
    "min_age": 12,
    "max_age": 18,
    "definition": {
        "options": FREQUENCY_2_WEEKS,
        "items": _items(
            [
                ("做事时提不起劲或没有兴趣", "Little interest or pleasure in doing things"),
                ("感到心情低落、沮丧或绝望", "Feeling down, depressed, or hopeless"),
                (
                    "入睡困难、睡不安稳或睡眠过多",
                    "Trouble falling or staying asleep, or sleeping too much",
                ),
                ("感觉疲倦或没有活力", "Feeling tired or having little energy"),
                ("食欲不振或吃太多", "Poor appetite or overeating"),
                (
                    "觉得自己很糟，或觉得自己很失败，或让自己或家人失望",
                    "Feeling bad about yourself — or that you are a failure or have let yourself "
                    "or your family down",
                ),
                (
                    "对事物专注有困难，例如阅读或看电视时",
                    "Trouble concentrating on things, such as reading or watching television",
                ),
                (
                    "动作或说话速度缓慢到别人已经察觉；或正好相反，烦躁或坐立不安、动来动去的情况"
                    "比平常更多",
                    "Moving or speaking so slowly that other people could have noticed; or the "
                    "opposite — being so fidgety or restless that you have been moving around a "
                    "lot more than usual",
                ),
                (
                    "有不如死掉或用某种方式伤害自己的念头",
                    "Thoughts that you would be better off dead, or of hurting yourself in "
                    "some way",
                ),
            ]
        ),
        "subscales": [],
        "bands": _bands(
            [
                (0, 4, "无或极轻微抑郁", "Minimal depression", NONE),
                (5, 9, "轻度抑郁", "Mild depression", LOW),
                (10, 14, "中度抑郁", "Moderate depression", MODERATE),
                (15, 19, "中重度抑郁", "Moderately severe depression", HIGH),
                (20, 27, "重度抑郁", "Severe depression", HIGH),
            ]
        ),
        "critical": [
            {
                "item": 9,
                "min_value": 1,
                "risk": CRISIS,
                "label": {"zh-hans": "有自伤或轻生念头", "en": "Thoughts of self-harm or death"},
            }
        ],
    },
}

GAD7 = {
    "code": "GAD-7",
    "name_zh": "广泛性焦虑障碍量表（GAD-7）",
    "name_en": "Generalized Anxiety Disorder scale (GAD-7)",
    "description": "在过去两周里，以下问题困扰你的频率有多少？ / Over the last two weeks, how "
    "often have you been bothered by the following problems?",
    "source": "Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing "
    "generalized anxiety disorder: the GAD-7. Arch Intern Med. 2006;166(10):1092-1097. Bands "
    "0-4, 5-9, 10-14, 15-21 as published.",
    "licence_note": "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
    "colleagues, with an educational grant from Pfizer Inc. No permission is required to "
    "reproduce, translate, display or distribute.",
    "min_age": 12,
    "max_age": 18,
    "definition": {
        "options": FREQUENCY_2_WEEKS,
        "items": _items(
            [
                ("感觉紧张、焦虑或急切", "Feeling nervous, anxious, or on edge"),
                ("不能够停止或控制担忧", "Not being able to stop or control worrying"),
                ("对各种各样的事情担忧过多", "Worrying too much about different things"),
                ("很难放松下来", "Trouble relaxing"),
                ("由于不安而无法静坐", "Being so restless that it is hard to sit still"),
                ("变得容易烦恼或急躁", "Becoming easily annoyed or irritable"),
                (
                    "感到似乎将有可怕的事情发生而害怕",
                    "Feeling afraid, as if something awful might happen",
                ),
            ]
        ),
        "subscales": [],
        "bands": _bands(
            [
                (0, 4, "无或极轻微焦虑", "Minimal anxiety", NONE),
                (5, 9, "轻度焦虑", "Mild anxiety", LOW),
                (10, 14, "中度焦虑", "Moderate anxiety", MODERATE),
                (15, 21, "重度焦虑", "Severe anxiety", HIGH),
            ]
        ),
        "critical": [],
    },
}

_K_ITEMS_10 = [
    ("无缘无故地感到疲惫不堪", "Tired out for no good reason"),
    ("感到紧张", "Nervous"),
    ("紧张得无论怎样都平静不下来", "So nervous that nothing could calm you down"),
    ("感到没有希望", "Hopeless"),
    ("感到坐立不安或烦躁", "Restless or fidgety"),
    ("烦躁得坐不住", "So restless that you could not sit still"),
    ("感到抑郁", "Depressed"),
    ("感到做每件事都很费力", "That everything was an effort"),
    ("伤心得无论怎样都高兴不起来", "So sad that nothing could cheer you up"),
    ("感到自己毫无价值", "Worthless"),
]
_K6_NUMBERS = (2, 4, 5, 9, 8, 10)  # the six K10 items that form the K6, in K6 order

KESSLER_SOURCE = (
    "Kessler RC, Andrews G, Colpe LJ, et al. Short screening scales to monitor population "
    "prevalences and trends in non-specific psychological distress. Psychol Med. "
    "2002;32(6):959-976."
)
KESSLER_LICENCE = (
    "The K6 and K10 are in the public domain and free to use "
    "(Harvard Medical School, National Comorbidity Survey)."
)
PAST_30_DAYS = (
    "在过去 30 天里，你有多少时间感到： / During the last 30 days, about how often did you feel:"
)

K6 = {
    "code": "K6",
    "name_zh": "凯斯勒心理困扰量表 6 项版（K6）",
    "name_en": "Kessler Psychological Distress Scale, 6 items (K6)",
    "description": PAST_30_DAYS,
    "source": KESSLER_SOURCE + " Items scored 0-4, total 0-24; 13 or more indicates probable "
    "serious psychological distress (Kessler et al., Arch Gen Psychiatry 2003;60:184-189); "
    "5-12 moderate distress (Prochaska et al., Int J Methods Psychiatr Res 2012;21:88-97).",
    "licence_note": KESSLER_LICENCE,
    "min_age": 12,
    "max_age": 18,
    "definition": {
        "options": _options(
            [
                (0, "从不", "None of the time"),
                (1, "很少", "A little of the time"),
                (2, "有时", "Some of the time"),
                (3, "大部分时间", "Most of the time"),
                (4, "一直", "All of the time"),
            ]
        ),
        "items": _items([_K_ITEMS_10[n - 1] for n in _K6_NUMBERS]),
        "subscales": [],
        "bands": _bands(
            [
                (0, 4, "无明显心理困扰", "No significant distress", NONE),
                (5, 12, "中度心理困扰", "Moderate distress", MODERATE),
                (13, 24, "可能存在严重心理困扰", "Probable serious distress", HIGH),
            ]
        ),
        "critical": [],
    },
}

K10 = {
    "code": "K10",
    "name_zh": "凯斯勒心理困扰量表（K10）",
    "name_en": "Kessler Psychological Distress Scale (K10)",
    "description": PAST_30_DAYS,
    "source": KESSLER_SOURCE + " Items scored 1-5, total 10-50; bands 10-15 low, 16-21 "
    "moderate, 22-29 high, 30-50 very high (Andrews & Slade, Aust N Z J Public Health "
    "2001;25:494-497).",
    "licence_note": KESSLER_LICENCE,
    "min_age": 12,
    "max_age": 18,
    "definition": {
        "options": _options(
            [
                (1, "从不", "None of the time"),
                (2, "很少", "A little of the time"),
                (3, "有时", "Some of the time"),
                (4, "大部分时间", "Most of the time"),
                (5, "一直", "All of the time"),
            ]
        ),
        "items": _items(_K_ITEMS_10),
        "subscales": [],
        "bands": _bands(
            [
                (10, 15, "低度心理困扰", "Low distress", NONE),
                (16, 21, "中度心理困扰", "Moderate distress", LOW),
                (22, 29, "高度心理困扰", "High distress", MODERATE),
                (30, 50, "极高心理困扰", "Very high distress", HIGH),
            ]
        ),
        "critical": [],
    },
}

BUILTIN = [PHQ9, GAD7, K6, K10]

# A starting reassessment policy (DESIGN.md §6): administrators change it in the admin site.
DEFAULT_POLICY = [
    # (setting, risk level or None, category, interval in days)
    ("any", None, "", 365),
    ("institution", None, "", 182),
    ("any", LOW, "", 365),
    ("any", MODERATE, "", 91),
    ("any", HIGH, "", 30),
    ("any", CRISIS, "", 14),
]


def install(instrument_model: Any, policy_model: Any | None = None) -> int:
    """Create the built-in instruments (and the starting policy) if missing; safe to rerun."""
    created = 0
    for spec in BUILTIN:
        _obj, was_created = instrument_model.objects.get_or_create(
            code=spec["code"],
            version=1,
            defaults={
                **{k: v for k, v in spec.items() if k != "code"},
                "is_builtin": True,
                "languages": ["zh-hans", "en"],
            },
        )
        created += int(was_created)
    if policy_model is not None and not policy_model.objects.exists():
        policy_model.objects.bulk_create(
            policy_model(setting=s, risk_level=r, category=c, interval_days=d)
            for s, r, c, d in DEFAULT_POLICY
        )
    return created
