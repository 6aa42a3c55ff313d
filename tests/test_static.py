"""Front-end assets are our own copies of locked packages, and the UI text is fully translated."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]


def test_vendored_assets_match_the_lock_file():
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text())
    manifest = json.loads((ROOT / "static" / "vendor" / "MANIFEST.json").read_text())
    for name, version in manifest.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    for path in [
        "bootstrap/bootstrap.min.css",
        "bootstrap/bootstrap.bundle.min.js",
        "htmx/htmx.min.js",
        "echarts/echarts.min.js",
        "bootstrap-icons/icons.css",
    ]:
        assert (ROOT / "static" / "vendor" / path).stat().st_size > 1000


def test_every_icon_in_use_is_in_the_icon_stylesheet():
    """The icons are a subset of Bootstrap Icons (tools/build_icons.py): an icon named in a
    template or in the code but missing from the stylesheet would show as an empty box."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_icons.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # And the menu as the running app builds it (whatever way its entries name their icons).
    from core.navigation import menu_entries

    built = (ROOT / "static" / "vendor" / "bootstrap-icons" / "icons.css").read_text()
    missing = [entry.icon for entry in menu_entries() if f".bi-{entry.icon}{{" not in built]
    assert not missing, missing


@pytest.mark.django_db
def test_pages_load_nothing_from_other_hosts(login):
    for client, url in [(Client(), "/accounts/login/"), (login("director_a"), "/children/")]:
        html = client.get(url).content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources
        assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]


@pytest.mark.django_db
def test_vendored_assets_are_served_by_the_app(live_server):
    import urllib.request

    for path in ["vendor/htmx/htmx.min.js", "vendor/echarts/echarts.min.js"]:
        with urllib.request.urlopen(f"{live_server.url}/static/{path}") as response:  # noqa: S310
            assert response.status == 200


def test_chinese_translation_is_complete_and_compiled():
    po_path = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, untranslated[:10]
    assert not fuzzy, fuzzy[:10]
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}
    for entry in po.translated_entries():
        assert compiled.get((entry.msgctxt, entry.msgid)) == entry.msgstr, entry.msgid


def test_every_translatable_string_in_the_code_is_in_the_catalogue():
    """makemessages would add nothing: compare the catalogue with a fresh extraction."""
    import shutil
    import subprocess
    import sys

    if shutil.which("xgettext") is None:
        pytest.skip("xgettext is missing: install GNU gettext (apt-get install gettext)")
    po = polib.pofile(str(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {(e.msgctxt, e.msgid) for e in po}
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "extract_messages.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    extracted = polib.pofile(result.stdout)
    missing = [e.msgid for e in extracted if (e.msgctxt, e.msgid) not in known]
    assert not missing, missing[:10]


def test_the_production_static_storage_collects_every_asset(tmp_path, settings):
    """The Docker image runs collectstatic with hashed names: a vendored file naming a source
    map that is not shipped would fail the build."""
    # Changing STORAGES and STATIC_ROOT resets the static files storage (Django's
    # setting_changed receivers), and again when the test restores them.
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    assert "vendor/bootstrap/bootstrap.bundle.min.js" in manifest["paths"]
