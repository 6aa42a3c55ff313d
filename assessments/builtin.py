"""The built-in instruments: only questionnaires free to reproduce, with their published scoring.

The Chinese wording follows the Chinese versions in common use; an agency that has a validated
translation of its own can add it as a new version in the instrument builder.
"""

from __future__ import annotations

from typing import Any

NONE, LOW, MODERATE, HIGH, CRISIS = 0, 1, 2, 3, 4
# Who answers (Instrument.Respondent): the child about themself, or an adult about the child.
CHILD, GUARDIAN_OR_TEACHER = "child", "guardian_or_teacher"

# One risk mapping for every built-in instrument (README, "Risk mapping"): the same category
# of result gives the same risk level whatever the instrument, and HIGH raises an alert.
#   none or minimal, low distress, below a screening cut-off  -> NONE
#   mild                                                       -> LOW
#   moderate, or at or above a screening cut-off               -> MODERATE
#   moderately severe, severe, high, very high, serious        -> HIGH (alert)
#   a critical answer (PHQ-9 item 9 answered 1 or more)        -> CRISIS (alert)


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
    "respondent": CHILD,
    "definition": {
        "options": FREQUENCY_2_WEEKS,
        "items": [
            *_items(
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
                        "Feeling bad about yourself — or that you are a failure or have let "
                        "yourself or your family down",
                    ),
                    (
                        "对事物专注有困难，例如阅读报纸或看电视时",
                        "Trouble concentrating on things, such as reading the newspaper or "
                        "watching television",
                    ),
                    (
                        "动作或说话速度缓慢到别人已经察觉；或正好相反，烦躁或坐立不安、动来动去的情况"
                        "比平常更多",
                        "Moving or speaking so slowly that other people could have noticed; or "
                        "the opposite — being so fidgety or restless that you have been moving "
                        "around a lot more than usual",
                    ),
                    (
                        "有不如死掉或用某种方式伤害自己的念头",
                        "Thoughts that you would be better off dead, or of hurting yourself in "
                        "some way",
                    ),
                ]
            ),
            {
                "number": 10,
                "text": {
                    "zh-hans": "如果你勾选了上述任何问题，这些问题使你在工作、处理家中事务或与他人"
                    "相处方面有多大困难？",
                    "en": "If you checked off any problems, how difficult have these problems "
                    "made it for you to do your work, take care of things at home, or get along "
                    "with other people?",
                },
                "reverse": False,
                "subscales": [],
                "required": False,
                "scored": False,  # the published form asks it; it is not part of the score
                "options": _options(
                    [
                        (0, "没有困难", "Not difficult at all"),
                        (1, "有些困难", "Somewhat difficult"),
                        (2, "非常困难", "Very difficult"),
                        (3, "极其困难", "Extremely difficult"),
                    ]
                ),
            },
        ],
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
    "respondent": CHILD,
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
# The K6 in its own order. Five items share the K10's wording; its fourth is "so depressed",
# where the K10's ninth is "so sad".
_K6_ITEMS = [
    _K_ITEMS_10[1],
    _K_ITEMS_10[3],
    _K_ITEMS_10[4],
    ("沮丧得无论怎样都高兴不起来", "So depressed that nothing could cheer you up"),
    _K_ITEMS_10[7],
    _K_ITEMS_10[9],
]

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
    "respondent": CHILD,
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
        "items": _items(_K6_ITEMS),
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
    "respondent": CHILD,
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
                (16, 21, "中度心理困扰", "Moderate distress", MODERATE),
                (22, 29, "高度心理困扰", "High distress", HIGH),
                (30, 50, "极高心理困扰", "Very high distress", HIGH),
            ]
        ),
        "critical": [],
    },
}

PSC17_INTERNALISING, PSC17_ATTENTION, PSC17_EXTERNALISING = (
    "internalising",
    "attention",
    ("externalising"),
)
_PSC17_ITEMS = [  # the published PSC-17 order, with the subscale of each item
    ("坐立不安，无法安静地坐着", "Fidgety, unable to sit still", PSC17_ATTENTION),
    ("感到悲伤、不开心", "Feels sad, unhappy", PSC17_INTERNALISING),
    ("白日梦做得太多", "Daydreams too much", PSC17_ATTENTION),
    ("不肯与人分享", "Refuses to share", PSC17_EXTERNALISING),
    ("不理解别人的感受", "Does not understand other people's feelings", PSC17_EXTERNALISING),
    ("感到没有希望", "Feels hopeless", PSC17_INTERNALISING),
    ("难以集中注意力", "Has trouble concentrating", PSC17_ATTENTION),
    ("和别的孩子打架", "Fights with other children", PSC17_EXTERNALISING),
    ("看不起自己", "Is down on him or herself", PSC17_INTERNALISING),
    ("把自己的麻烦归咎于别人", "Blames others for his or her troubles", PSC17_EXTERNALISING),
    ("似乎玩得没以前开心了", "Seems to be having less fun", PSC17_INTERNALISING),
    ("不听从规则", "Does not listen to rules", PSC17_EXTERNALISING),
    ("好像被马达驱动一样停不下来", "Acts as if driven by a motor", PSC17_ATTENTION),
    ("取笑别人", "Teases others", PSC17_EXTERNALISING),
    ("非常担心", "Worries a lot", PSC17_INTERNALISING),
    (
        "拿不属于他（她）的东西",
        "Takes things that do not belong to him or her",
        PSC17_EXTERNALISING,
    ),
    ("容易分心", "Distracted easily", PSC17_ATTENTION),
]


def _scale_bands(scale: str, rows: list[tuple[int, int, str, str, int]]) -> list[dict[str, Any]]:
    return [{**band, "scale": scale} for band in _bands(rows)]


PSC17 = {
    "code": "PSC-17",
    "name_zh": "儿童症状简表 17 项版（PSC-17）",
    "name_en": "Pediatric Symptom Checklist-17 (PSC-17)",
    "description": "由家长（监护人）或老师填写：请为每一项选择最符合这个孩子情况的答案。 / "
    "Completed by a parent (guardian) or teacher: please mark under the heading that best "
    "fits the child.",
    "source": "Gardner W, Murphy M, Childs G, et al. The PSC-17: a brief pediatric symptom "
    "checklist with psychosocial problem subscales. A report from PROS and ASPN. Ambulatory "
    "Child Health. 1999;5:225-236. Items scored 0 never, 1 sometimes, 2 often; total 0-34, 15 "
    "or more is a positive screen; subscales internalising (items 2, 6, 9, 11, 15) 5 or more, "
    "attention (1, 3, 7, 13, 17) 7 or more, externalising (4, 5, 8, 10, 12, 14, 16) 7 or more. "
    "Ages 4-16; guardian or teacher report.",
    "licence_note": "The Pediatric Symptom Checklist (Jellinek and Murphy, Massachusetts "
    "General Hospital) is in the public domain and free to use, translate and reproduce.",
    "min_age": 4,
    "max_age": 16,
    "respondent": GUARDIAN_OR_TEACHER,
    "definition": {
        "options": _options([(0, "从不", "Never"), (1, "有时", "Sometimes"), (2, "经常", "Often")]),
        "items": [
            {**item, "subscales": [scale]}
            for item, (_zh, _en, scale) in zip(
                _items([(zh, en) for zh, en, _scale in _PSC17_ITEMS]), _PSC17_ITEMS, strict=True
            )
        ],
        "subscales": [
            {
                "code": PSC17_INTERNALISING,
                "name": {"zh-hans": "内化问题", "en": "Internalising"},
                "validity": False,
                "invalid_from": None,
            },
            {
                "code": PSC17_ATTENTION,
                "name": {"zh-hans": "注意问题", "en": "Attention"},
                "validity": False,
                "invalid_from": None,
            },
            {
                "code": PSC17_EXTERNALISING,
                "name": {"zh-hans": "外化问题", "en": "Externalising"},
                "validity": False,
                "invalid_from": None,
            },
        ],
        "bands": _bands(
            [
                (0, 14, "低于筛查界值", "Below the screening cut-off", NONE),
                (
                    15,
                    34,
                    "筛查阳性，建议进一步评估",
                    "Positive screen: further assessment",
                    MODERATE,
                ),
            ]
        )
        + _scale_bands(
            PSC17_INTERNALISING,
            [
                (0, 4, "内化问题低于界值", "Internalising below the cut-off", NONE),
                (5, 10, "内化问题阳性", "Internalising positive", MODERATE),
            ],
        )
        + _scale_bands(
            PSC17_ATTENTION,
            [
                (0, 6, "注意问题低于界值", "Attention below the cut-off", NONE),
                (7, 10, "注意问题阳性", "Attention positive", MODERATE),
            ],
        )
        + _scale_bands(
            PSC17_EXTERNALISING,
            [
                (0, 6, "外化问题低于界值", "Externalising below the cut-off", NONE),
                (7, 14, "外化问题阳性", "Externalising positive", MODERATE),
            ],
        ),
        "critical": [],
    },
}

CESDC_REVERSED = (4, 8, 12, 16)
CESDC = {
    "code": "CES-DC",
    "name_zh": "流调中心儿童抑郁量表（CES-DC）",
    "name_en": "Center for Epidemiologic Studies Depression Scale for Children (CES-DC)",
    "description": "下面是一些你可能有过的感受或做法。请选出在过去一周里，你有多少时候有这样的感受"
    "或做法。 / Below is a list of the ways you might have felt or acted. Please check how much "
    "you have felt this way during the past week.",
    "source": "Weissman MM, Orvaschel H, Padian N. Children's symptom and social functioning "
    "self-report scales: comparison of mothers' and children's reports. J Nerv Ment Dis. "
    "1980;168(12):736-740. Faulstich ME, Carey MP, Ruggiero L, et al. Assessment of depression "
    "in childhood and adolescence: an evaluation of the CES-DC. Am J Psychiatry. "
    "1986;143(8):1024-1027. 20 items scored 0-3; items 4, 8, 12 and 16 are worded positively "
    "and reverse-scored; total 0-60, 15 or more suggests depressive symptoms. Ages 6-17; "
    "self-report.",
    "licence_note": "Developed at the Center for Epidemiologic Studies of the US National "
    "Institute of Mental Health; in the public domain and free to reproduce.",
    "min_age": 6,
    "max_age": 17,
    "respondent": CHILD,
    "definition": {
        "options": _options(
            [
                (0, "完全没有", "Not at all"),
                (1, "有一点", "A little"),
                (2, "有一些", "Some"),
                (3, "很多", "A lot"),
            ]
        ),
        "items": [
            {**item, "reverse": item["number"] in CESDC_REVERSED}
            for item in _items(
                [
                    (
                        "一些平时不会困扰我的事情让我心烦。",
                        "I was bothered by things that usually don't bother me.",
                    ),
                    (
                        "我不想吃东西，我不太饿。",
                        "I did not feel like eating, I wasn't very hungry.",
                    ),
                    (
                        "即使家人或朋友想让我高兴起来，我也高兴不起来。",
                        "I wasn't able to feel happy, even when my family or friends tried to "
                        "help me feel better.",
                    ),
                    (
                        "我觉得自己和别的孩子一样好。",
                        "I felt like I was just as good as other kids.",
                    ),
                    (
                        "我觉得自己没法专心做正在做的事。",
                        "I felt like I couldn't pay attention to what I was doing.",
                    ),
                    ("我感到情绪低落、不开心。", "I felt down and unhappy."),
                    (
                        "我觉得自己太累了，什么都不想做。",
                        "I felt like I was too tired to do things.",
                    ),
                    ("我觉得会有好事情发生。", "I felt like something good was going to happen."),
                    (
                        "我觉得以前做的事情都没有做好。",
                        "I felt like things I did before didn't work out right.",
                    ),
                    ("我感到害怕。", "I felt scared."),
                    ("我睡得没有平时好。", "I didn't sleep as well as I usually sleep."),
                    ("我很开心。", "I was happy."),
                    ("我比平时更安静。", "I was more quiet than usual."),
                    (
                        "我感到孤单，好像没有朋友。",
                        "I felt lonely, like I didn't have any friends.",
                    ),
                    (
                        "我觉得认识的孩子对我不友好，或者他们不想和我在一起。",
                        "I felt like kids I know were not friendly or that they didn't want to be "
                        "with me.",
                    ),
                    ("我过得很愉快。", "I had a good time."),
                    ("我想哭。", "I felt like crying."),
                    ("我感到难过。", "I felt sad."),
                    ("我觉得别人不喜欢我。", "I felt people didn't like me."),
                    ("我很难开始做事情。", "It was hard to get started doing things."),
                ]
            )
        ],
        "subscales": [],
        "bands": _bands(
            [
                (0, 14, "低于筛查界值", "Below the screening cut-off", NONE),
                (15, 60, "提示存在抑郁症状", "Suggests depressive symptoms", MODERATE),
            ]
        ),
        "critical": [],
    },
}

BUILTIN: list[dict[str, Any]] = [PHQ9, GAD7, K6, K10, PSC17, CESDC]

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


def _fields_of(spec: dict[str, Any], instrument_model: Any) -> dict[str, Any]:
    """The spec's fields that the model has at this point of the migrations (an early
    migration runs before later fields such as `respondent` exist)."""
    names = {f.name for f in instrument_model._meta.get_fields()}
    return {k: v for k, v in spec.items() if k != "code" and k in names}


def install(instrument_model: Any, policy_model: Any | None = None) -> int:
    """Create the built-in instruments (and the starting policy) if missing; safe to rerun."""
    created = 0
    for spec in BUILTIN:
        _obj, was_created = instrument_model.objects.get_or_create(
            code=spec["code"],
            version=1,
            defaults={
                **_fields_of(spec, instrument_model),
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


def sync(instrument_model: Any) -> dict[str, str]:
    """Bring the installed built-ins up to this module (a data migration calls it; safe to
    rerun). A missing instrument is created. The newest version of a built-in whose text,
    scoring or details differ is changed in place while it has no results; once it has
    results the change is the code's next version, as the builder does, so that every result
    keeps the version it was scored with. A code whose newest version an administrator made in
    the builder is left to them. Returns what was done, by code."""
    outcomes: dict[str, str] = {}
    for spec in BUILTIN:
        code = spec["code"]
        fields = _fields_of(spec, instrument_model)
        newest = instrument_model.objects.filter(code=code).order_by("-version").first()
        if newest is None:
            instrument_model.objects.create(
                code=code, version=1, is_builtin=True, languages=["zh-hans", "en"], **fields
            )
            outcomes[code] = "created"
        elif not newest.is_builtin:
            outcomes[code] = "kept"
        elif all(getattr(newest, name) == value for name, value in fields.items()):
            outcomes[code] = "unchanged"
        elif newest.results.exists():
            instrument_model.objects.create(
                code=code,
                version=newest.version + 1,
                is_builtin=True,
                is_active=newest.is_active,
                languages=["zh-hans", "en"],
                **fields,
            )
            outcomes[code] = "new_version"
        else:
            for name, value in fields.items():
                setattr(newest, name, value)
            newest.save()
            outcomes[code] = "changed_in_place"
    return outcomes
