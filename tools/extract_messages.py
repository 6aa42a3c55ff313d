"""Print a fresh POT extraction of the project's translatable strings (what makemessages sees).

Used by the test that checks the Chinese catalogue is complete; needs GNU gettext's xgettext.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "config",
    "core",
    "institutions",
    "cases",
    "assessments",
    "referrals",
    "followups",
    "dashboards",
]
KEYWORDS = [
    "gettext_noop",
    "gettext_lazy",
    "ngettext_lazy:1,2",
    "pgettext:1c,2",
    "npgettext:1c,2,3",
    "pgettext_lazy:1c,2",
    "npgettext_lazy:1c,2,3",
    "ngettext:1,2",
    "gettext",
    "_",
]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.utils.translation.template import templatize

    sources: list[Path] = []
    for app in APPS:
        sources += [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    templates = list((ROOT / "templates").rglob("*.html"))
    for app in APPS:
        templates += list((ROOT / app).rglob("templates/**/*.html"))
    with tempfile.TemporaryDirectory() as tmp:
        for index, template in enumerate(sorted(templates)):
            converted = Path(tmp) / f"t{index}.py"
            converted.write_text(
                templatize(template.read_text(encoding="utf-8"), str(template)), encoding="utf-8"
            )
            sources.append(converted)
        command = [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            "--output=-",
            *[f"--keyword={k}" for k in KEYWORDS],
            *map(str, sorted(sources)),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
    sys.stdout.write(result.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
