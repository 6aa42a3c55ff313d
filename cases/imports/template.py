"""The import's file format: the template's columns, the names it accepts, the header check, and
the template files users download."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from cases.models import Category, Child
from core.spreadsheets import Sheet, csv_bytes, xlsx_bytes

# The file format: these headers are the format itself, the same whatever the user's language.
COLUMNS: dict[str, str] = {
    "姓名": "name",
    "性别": "sex",
    "出生日期": "birth_date",
    "身份证号": "national_id",
    "现居住地代码": "residence_region",
    "户籍地代码": "household_region",
    "类别": "categories",
    "学校": "school",
    "年级": "grade",
    "班级": "class_name",
    "所在机构": "residential_institution",
    "备注": "notes",
}
HEADERS = list(COLUMNS)
FIELD_HEADERS = {field: header for header, field in COLUMNS.items()}
REQUIRED_HEADERS = ("姓名", "性别", "出生日期", "现居住地代码")
TEXT_HEADERS = ("身份证号", "现居住地代码", "户籍地代码")  # kept as text in the template
SEXES = {"男": Child.Sex.MALE, "女": Child.Sex.FEMALE, "M": Child.Sex.MALE, "F": Child.Sex.FEMALE}
# The policy's names for the categories; the first is the one the template lists.
CATEGORY_NAMES: dict[str, tuple[str, ...]] = {
    Category.FAMILY_POVERTY: ("家庭贫困", "家庭经济困难"),
    Category.DISABILITY: ("残疾", "残疾儿童"),
    Category.GUARDIANSHIP: ("监护缺失或不当", "监护缺失", "监护不当"),
    Category.ORPHAN: ("孤儿",),
    Category.DE_FACTO_UNSUPPORTED: ("事实无人抚养", "事实无人抚养儿童"),
    Category.RURAL_LEFT_BEHIND: ("农村留守", "农村留守儿童", "留守儿童"),
    Category.MIGRANT: ("流动", "流动儿童"),
    Category.OTHER: ("其他",),
}
CATEGORY_SEPARATORS = re.compile(r"[、,，;；/\n]+")
EXTENSIONS = (".xlsx", ".csv")


def header_errors(headers: list[str]) -> list[str]:
    """What is wrong with the header row (nothing when it is the template's)."""
    problems = []
    missing = [h for h in REQUIRED_HEADERS if h not in headers]
    if missing:
        problems.append(
            _("The first row must hold the template's column names. Missing: %(columns)s.")
            % {"columns": "、".join(missing)}
        )
    unknown = [h for h in headers if h not in COLUMNS]
    if unknown:
        problems.append(
            _("These columns are not in the template: %(columns)s.")
            % {"columns": "、".join(h or "?" for h in unknown)}
        )
    for header in sorted({h for h in headers if headers.count(h) > 1 and h}):
        problems.append(_("The column %(column)s appears twice.") % {"column": header})
    return problems


def template_workbook() -> bytes:
    """The XLSX template: the header row, text-formatted code columns, and instructions."""
    children = Sheet(
        title=_("Children"),
        header=HEADERS,
        widths=[max(10, 4 * len(header) + 4) for header in HEADERS],
        text_columns=[HEADERS.index(header) for header in TEXT_HEADERS],
        freeze_header=True,
    )
    instructions = Sheet(
        title=_("Instructions"),
        header=[_("Column"), _("How to fill it in")],
        rows=template_instructions(),
        widths=[16, 90],
        bold_header=False,
    )
    return xlsx_bytes([children, instructions])


def template_csv() -> bytes:
    """The CSV template: the header row, UTF-8 with a BOM so that Excel opens it correctly."""
    return csv_bytes([HEADERS])


def template_instructions() -> list[tuple[str, str]]:
    """What goes in each column, in the user's language."""
    category_names = "、".join(names[0] for names in CATEGORY_NAMES.values())
    return [
        ("", _("Fill in one child per row from the second row of the first sheet; keep row 1.")),
        ("姓名", _("The child's name. Required.")),
        ("性别", _("男 (male) or 女 (female). Required.")),
        ("出生日期", _("YYYY-MM-DD, for example 2015-05-05, or an Excel date. Required.")),
        ("身份证号", _("18 characters, typed as text; leave it empty if unknown.")),
        (
            "现居住地代码",
            _(
                "The 9- or 12-digit code of the township or village where the child lives. "
                "Required."
            ),
        ),
        ("户籍地代码", _("The household registration's region code; empty if the same as above.")),
        (
            "类别",
            _("One or more of: %(names)s, separated by 、") % {"names": category_names},
        ),
        ("学校", _("The school's name exactly as on the platform; optional.")),
        ("年级", _("1 to 12; optional.")),
        ("班级", _("The class; optional.")),
        ("所在机构", _("The residential institution's name exactly as on the platform; optional.")),
        ("备注", _("Notes; optional.")),
    ]
