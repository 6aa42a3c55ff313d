"""Importing children from a spreadsheet: the template, reading and checking the file, the job."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.forms import ChildForm, institutions_for
from cases.identity import national_id_hash
from cases.models import Category, Child, ChildImport
from cases.services.child import _record_number, build_child
from core.access_log import access_record
from core.jobs import enqueue
from core.models import AccessEvent
from core.spreadsheets import Sheet, UnreadableFile, cell_value, csv_bytes, read_table, xlsx_bytes
from institutions.forms import BootstrapFormMixin
from institutions.models import Institution, User

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
FINISHED = (ChildImport.Status.REJECTED, ChildImport.Status.DONE, ChildImport.Status.FAILED)
PROGRESS_EVERY = 200
MAX_REPORTED_ERRORS = 1000
_LOCK_NAMESPACE = 7301  # pg advisory-lock class for import jobs


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


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the file-level checks; rows are the data rows it holds."""

    filename: str
    content: bytes
    rows: int


def check_upload(uploaded_file: UploadedFile) -> CheckedUpload:
    """Type, size, readability, header row and row count of an upload; raises ValidationError."""
    cached = getattr(uploaded_file, "_child_import_checked", None)
    if cached is not None:
        return cached
    filename = PurePath(uploaded_file.name or "").name[-200:]
    if not filename.lower().endswith(EXTENSIONS):
        raise forms.ValidationError(
            _(
                "Upload an Excel workbook (.xlsx) or a CSV file (.csv); "
                "save an older .xls file as .xlsx first."
            ),
            code="file_type",
        )
    if (uploaded_file.size or 0) > settings.IMPORT_MAX_BYTES:
        raise forms.ValidationError(
            _("The file is larger than %(size)s: split it into smaller files.")
            % {"size": filesizeformat(settings.IMPORT_MAX_BYTES)},
            code="too_large",
        )
    uploaded_file.seek(0)
    content = uploaded_file.read()
    try:
        table = read_table(content=content, filename=filename)
        problems = header_errors(table.headers)
        if problems:
            raise forms.ValidationError(problems, code="headers")
        count = 0
        for _row in table.rows:
            count += 1
            if count > settings.IMPORT_MAX_ROWS:
                raise forms.ValidationError(
                    _(
                        "The file has more than %(max)d rows of children: "
                        "split it into smaller files."
                    )
                    % {"max": settings.IMPORT_MAX_ROWS},
                    code="too_many_rows",
                )
    except UnreadableFile as exc:
        raise forms.ValidationError(str(exc), code="unreadable") from None
    if count == 0:
        raise forms.ValidationError(
            _("The file has no children in it: fill in the template from its second row."),
            code="no_rows",
        )
    checked = CheckedUpload(filename=filename, content=content, rows=count)
    uploaded_file._child_import_checked = checked  # type: ignore[attr-defined]
    return checked


class ChildImportForm(BootstrapFormMixin, forms.Form):
    """The upload of a filled-in template; the whole file is checked later, by the job."""

    file = forms.FileField(
        label=gettext_lazy("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(EXTENSIONS)}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "An Excel workbook (.xlsx) or a CSV file (.csv) made from the template, "
            "up to %(size)s and %(rows)d rows."
        ) % {"size": filesizeformat(settings.IMPORT_MAX_BYTES), "rows": settings.IMPORT_MAX_ROWS}

    def clean_file(self) -> UploadedFile:
        uploaded: UploadedFile = self.cleaned_data["file"]
        check_upload(uploaded)
        return uploaded


def category_lookup() -> dict[str, str]:
    """Every accepted spelling of a category (policy name, label in each language, code)."""
    lookup: dict[str, str] = {}
    for value, names in CATEGORY_NAMES.items():
        for name in (*names, value):
            lookup[name.casefold()] = value
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for value, label in Category.choices:
                lookup.setdefault(str(label).casefold(), value)
    return lookup


def _names_to_pks(queryset: QuerySet[Institution]) -> dict[str, int | None]:
    """Name → pk; None marks a name two institutions share (it cannot be told apart)."""
    found: dict[str, int | None] = {}
    for pk, name in queryset.values_list("pk", "name"):
        key = " ".join(name.split())
        found[key] = None if key in found else pk
    return found


class RowChecker:
    """Turns one row into ChildForm data, and reports its errors under the file's column names."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.categories = category_lookup()
        self.schools = _names_to_pks(institutions_for(user, {Institution.Kind.SCHOOL}))
        self.institutions = _names_to_pks(
            institutions_for(user, set(Institution.RESIDENTIAL_KINDS))
        )

    def _institution(self, name: str, names: dict[str, int | None], unknown: str) -> Any:
        key = " ".join(name.split())
        if key not in names:
            raise forms.ValidationError(unknown % {"name": key})
        pk = names[key]
        if pk is None:
            raise forms.ValidationError(
                _("Several institutions are called %(name)s: ask an administrator to rename one.")
                % {"name": key}
            )
        return pk

    def _prepare(self, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Form data from the cells, and errors the form could not word well."""
        data: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for header, field in COLUMNS.items():
            value = values.get(header, "")
            if field == "national_id" and isinstance(value, float):
                errors[field] = _(
                    "Excel stored this ID number as a number and lost its last digits: "
                    "format the column as text and type it again."
                )
                continue
            data[field] = cell_value(value)
        sex = str(data.get("sex", ""))
        if sex:
            data["sex"] = SEXES.get(sex.upper())
            if data["sex"] is None:
                errors["sex"] = _("Write 男 (male) or 女 (female).")
        categories = []
        for name in CATEGORY_SEPARATORS.split(str(data.get("categories", ""))):
            name = name.strip()
            if not name:
                continue
            value = self.categories.get(name.casefold())
            if value is None:
                errors["categories"] = _(
                    "Unknown category %(value)s: use the names listed in the template."
                ) % {"value": name}
            elif value not in categories:
                categories.append(value)
        data["categories"] = categories
        data["grade"] = str(data.get("grade", "")).removesuffix("年级").strip()
        for field, names, unknown in (
            ("school", self.schools, _("There is no school called %(name)s that you may choose.")),
            (
                "residential_institution",
                self.institutions,
                _("There is no residential institution called %(name)s that you may choose."),
            ),
        ):
            name = str(data.get(field, ""))
            if name:
                try:
                    data[field] = self._institution(name, names, unknown)
                except forms.ValidationError as exc:
                    errors[field] = exc.messages[0]
                    data[field] = ""
        return data, errors

    def check(self, values: dict[str, Any]) -> tuple[ChildForm, list[tuple[str, str]]]:
        """The validated form and the row's errors as (column, message) pairs."""
        data, own_errors = self._prepare(values)
        form = ChildForm(data=data, user=self.user)
        errors = [(FIELD_HEADERS[field], message) for field, message in own_errors.items()]
        if not form.is_valid():
            for field, messages in form.errors.items():
                if field in own_errors:
                    continue  # already said, in the file's own terms
                for message in messages:
                    errors.append((FIELD_HEADERS.get(field, ""), str(message)))
        return form, errors


def child_imports_of(user: User) -> QuerySet[ChildImport]:
    """The imports a user may follow: their own uploads only (the content is left unloaded)."""
    return ChildImport.objects.filter(uploaded_by_id=user.pk).defer("content")


@transaction.atomic
def child_import_start(*, uploaded_file: UploadedFile, by: User) -> ChildImport:
    """Store an upload that passes the file checks and queue the job that checks and imports it."""
    checked = check_upload(uploaded_file)
    job = ChildImport.objects.create(
        uploaded_by=by, filename=checked.filename, content=checked.content, total_rows=checked.rows
    )
    enqueue("cases.child_import_run", job.pk)
    return job


@contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """A session lock on the job: a second run waits for nothing and does nothing.

    After a crash the lock goes with the dead connection, so a redelivered task can take over
    a job left CHECKING or IMPORTING (nothing of it was saved: the import is one transaction).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, job_id])
        (locked,) = cursor.fetchone()
    try:
        yield bool(locked)
    finally:
        if locked:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, job_id])
            except (OperationalError, InterfaceError):
                pass  # the connection is gone, and its lock with it


def _row_error(row: int | None, field: str, message: str) -> dict[str, Any]:
    return {"row": row, "field": field, "message": str(message)}


def _finish(job_id: int, status: str, **values: Any) -> None:
    ChildImport.objects.filter(pk=job_id).update(
        status=status, finished_at=timezone.now(), **values
    )


def _limit(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors.sort(key=lambda e: e["row"] or 0)
    if len(errors) <= MAX_REPORTED_ERRORS:
        return errors
    more = len(errors) - MAX_REPORTED_ERRORS
    return [
        *errors[:MAX_REPORTED_ERRORS],
        _row_error(
            None,
            "",
            _("%(count)d more errors are not listed: correct the rows above and upload again.")
            % {"count": more},
        ),
    ]


def _registered_rows(hashes: dict[str, int]) -> list[int]:
    """Rows of the file whose ID number is already on a child's file (anywhere)."""
    found: list[int] = []
    keys = list(hashes)
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        existing = Child.objects.filter(national_id_hash__in=chunk)
        found += [hashes[key] for key in existing.values_list("national_id_hash", flat=True) if key]
    return sorted(found)


def _already_registered(rows: list[int]) -> list[dict[str, Any]]:
    # Says nothing about the existing file: not its region, name or record number.
    message = _("A child with this ID number is already registered.")
    return [_row_error(row, "身份证号", message) for row in rows]


def reserve_child_ids(count: int) -> list[int]:
    """Take `count` values of the children's id sequence at once."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('cases_child', 'id')) "
            "FROM generate_series(1, %s)",
            [count],
        )
        return sorted(int(value) for (value,) in cursor.fetchall())


def child_import_run(*, job_id: int) -> None:
    """Check a queued import whole; if every row is valid create all its children, else none.

    The check commits its progress as it goes (so the page can show it); the import is then one
    transaction. Running a job again after it finished changes nothing.
    """
    runnable = [
        ChildImport.Status.QUEUED,
        ChildImport.Status.CHECKING,
        ChildImport.Status.IMPORTING,
    ]
    with _job_lock(job_id) as locked:
        if not locked:
            return
        claimed = ChildImport.objects.filter(pk=job_id, status__in=runnable).update(
            status=ChildImport.Status.CHECKING, processed_rows=0, errors=[], finished_at=None
        )
        if not claimed:
            return
        job = ChildImport.objects.select_related("uploaded_by").get(pk=job_id)
        try:
            _check_and_import(job)
        except (OperationalError, InterfaceError):
            raise  # the database went away: nothing was saved, and a retry takes the job over
        except Exception:
            child_import_fail(job_id=job_id)
            raise


def child_import_fail(*, job_id: int) -> None:
    """Mark an unfinished import as failed (nothing of it was saved), so its page stops waiting."""
    message = _("The import stopped unexpectedly and nothing was imported. Try again.")
    ChildImport.objects.exclude(status__in=FINISHED).filter(pk=job_id).update(
        status=ChildImport.Status.FAILED,
        finished_at=timezone.now(),
        errors=[_row_error(None, "", message)],
    )


def _check_and_import(job: ChildImport) -> None:
    user = job.uploaded_by
    if not (user.is_active and user.has_perm("cases.import_children")):
        _finish(
            job.pk,
            ChildImport.Status.FAILED,
            errors=[
                _row_error(None, "", _("You may no longer import children: nothing was imported."))
            ],
        )
        return
    try:
        table = read_table(content=bytes(job.content), filename=job.filename)
        problems = header_errors(table.headers)
    except UnreadableFile as exc:
        problems = [str(exc)]
    if problems:
        _finish(
            job.pk, ChildImport.Status.REJECTED, errors=[_row_error(1, "", p) for p in problems]
        )
        return
    checker = RowChecker(user)
    errors: list[dict[str, Any]] = []
    valid: list[tuple[int, dict[str, Any], str]] = []
    hashes: dict[str, int] = {}
    count = 0
    for count, (number, values) in enumerate(table.rows, start=1):
        form, row_errors = checker.check(values)
        # An ID number that is valid itself is matched even if another cell of the row is wrong.
        national_id = form.cleaned_data.get("national_id") or ""
        if national_id:
            key = national_id_hash(national_id)
            if key in hashes:
                message = _("This ID number is also on row %(row)d of this file.")
                row_errors.append(("身份证号", message % {"row": hashes[key]}))
            else:
                hashes[key] = number
        errors += [_row_error(number, column, message) for column, message in row_errors]
        if not row_errors:
            valid.append((number, form.model_data(), national_id))
        if count % PROGRESS_EVERY == 0:
            ChildImport.objects.filter(pk=job.pk).update(processed_rows=count)
    errors += _already_registered(_registered_rows(hashes))
    ChildImport.objects.filter(pk=job.pk).update(processed_rows=count, total_rows=count)
    if errors:
        _finish(job.pk, ChildImport.Status.REJECTED, errors=_limit(errors))
        return
    children = []
    for pk, (_number, data, national_id) in zip(reserve_child_ids(len(valid)), valid, strict=True):
        child = build_child(data=data, national_id=national_id, by=user)
        child.pk = pk
        child.record_number = _record_number(pk, child.residence_region)
        children.append(child)
    ChildImport.objects.filter(pk=job.pk).update(status=ChildImport.Status.IMPORTING)
    try:
        _save(job, user, children)
    except IntegrityError:
        # Someone registered one of these children while the file was being checked.
        late = _registered_rows(hashes)
        if not late:
            raise
        _finish(job.pk, ChildImport.Status.REJECTED, errors=_already_registered(late))


@transaction.atomic
def _save(job: ChildImport, user: User, children: list[Child]) -> None:
    Child.objects.bulk_create(children, batch_size=500)
    access_record(
        user=user,
        action=AccessEvent.Action.CHANGE,
        child=None,
        detail={"import": job.pk, "created": len(children)},
    )
    _finish(job.pk, ChildImport.Status.DONE, created_count=len(children))


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
