"""One child's entry: typed answers parsed and checked, and why a result cannot be saved now."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from assessments.models import ScreeningSession
from assessments.scoring import Definition
from assessments.screening.roster import RosterRow
from institutions.models import User
from institutions.roles import CONSENT_PERMISSION

SEPARATORS = re.compile(r"[\s,，、;；/]+")
SKIPPED = {"-", "_", "."}  # typed for an optional question left unanswered


def parse_typed(text: str, definition: Definition) -> tuple[dict[int, int], list[str]]:
    """Answers typed in order, one digit per question ("012301232"), or separated by spaces or
    commas for answers of more than one digit; "-" leaves an optional question unanswered."""
    text = text.strip()
    numbers = [int(item["number"]) for item in definition.items]
    tokens = [t for t in SEPARATORS.split(text) if t] if SEPARATORS.search(text) else list(text)
    if not tokens:
        return {}, [_("Type the answers, one digit per question.")]
    scored = [int(i["number"]) for i in definition.items if i.get("scored", True)]
    if len(tokens) == len(scored) < len(numbers):
        numbers = scored  # the unscored questions (all optional) left out
    if len(tokens) != len(numbers):
        return {}, [
            _("Type %(expected)d answers, one per question; there are %(typed)d.")
            % {"expected": len(numbers), "typed": len(tokens)}
        ]
    answers: dict[int, int] = {}
    errors: list[str] = []
    for number, token in zip(numbers, tokens, strict=True):
        if token in SKIPPED:
            continue
        try:
            answers[number] = int(token)
        except ValueError:
            errors.append(
                _("Question %(n)d: %(value)s is not a number.") % {"n": number, "value": token}
            )
    if not errors:
        errors = answer_messages(definition, answers)
    return answers, errors


def answer_messages(definition: Definition, answers: dict[int, int]) -> list[str]:
    """The answer rule's errors (`Definition.read_answers`), each naming its question."""
    _answers, problems = definition.read_answers({str(n): v for n, v in answers.items()})
    return [
        _("Question %(n)d: %(message)s") % {"n": int(key), "message": message}
        for key, message in sorted(problems.items(), key=lambda kv: int(kv[0]))
    ]


def entry_problems(
    *, session: ScreeningSession, row: RosterRow, consent_today: bool, user: User | None = None
) -> list[str]:
    """Why this child's answers cannot be saved in this session now (answers aside); with
    `user`, also a consent given today that this user may not record."""
    problems = []
    if consent_today and user is not None and not user.has_perm(CONSENT_PERMISSION):
        problems.append(_("You may not record consent."))
    if session.status != ScreeningSession.Status.OPEN:
        problems.append(_("This screening is closed."))
    if row.result is not None:
        problems.append(
            _("This child already has a result in this screening; correct it from the result page.")
        )
    if row.fit_problem:
        problems.append(row.fit_problem)
    if not row.consent_on_file:
        if not consent_today:
            problems.append(
                _("No consent for assessment is on file, and none is recorded as given today.")
            )
        elif row.consent_problem:
            problems.append(row.consent_problem)
    return problems
