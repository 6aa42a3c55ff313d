"""The production shape in docker-compose.yml and the documented settings stay in step."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_has_the_five_services_with_health_checks_and_a_database_volume():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, name
    assert "gunicorn" in services["web"]["command"]
    assert any("pgdata:" in volume for volume in services["postgres"]["volumes"])
    assert "pgdata" in compose["volumes"]
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DJANGO_ENV"] == "production"


def test_every_environment_variable_read_by_the_settings_is_documented():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env\.get_\w+\(\s*"([A-Z_]+)"', settings_source))
    read |= {"DATABASE_URL", "REDIS_URL"}
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read <= documented, read - documented
