"""The production shape in docker-compose.yml and the documented settings stay in step."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_with_health_checks_and_a_database_volume():
    compose = _compose()
    services = {
        name: service
        for name, service in compose["services"].items()
        if not service.get("profiles")
    }
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in compose["services"].items():
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


def test_the_scale_profile_adds_a_streaming_replica_more_web_and_workers_and_a_balancer():
    services = _compose()["services"]
    scale = {name for name, service in services.items() if "scale" in service.get("profiles", [])}
    assert scale == {"postgres-replica", "web-extra", "worker-extra", "lb"}
    # The replica is a copy of the primary streamed by pg_basebackup, answering reads.
    replica_script = (ROOT / "deploy/postgres/replica.sh").read_text()
    assert "pg_basebackup -h postgres -U replicator" in replica_script and " -R " in replica_script
    assert "hot_standby=on" in replica_script
    assert "REPLICATION" in (ROOT / "deploy/postgres/10-replication.sh").read_text()
    assert any("10-replication.sh" in volume for volume in services["postgres"]["volumes"])
    # More web and worker processes of the same image and settings, none running migrations.
    for name in ("web-extra", "worker-extra"):
        assert services[name]["deploy"]["replicas"] >= 2
        assert services[name]["image"] == services["web"]["image"]
        assert services[name]["environment"] == services["web"]["environment"]
        assert "migrate" not in services[name]["command"]
    # Every app process can be pointed at the replica; the balancer reaches every web process.
    assert "DATABASE_REPLICA_URL" in services["web"]["environment"]
    balancer = (ROOT / "deploy/nginx/scale.conf").read_text()
    assert "server web:8000 resolve" in balancer and "server web-extra:8000 resolve" in balancer
    # A retired replica cannot fill the primary's disk with write-ahead log kept for it.
    assert "max_slot_wal_keep_size" in services["postgres"]["command"]


def test_a_plain_compose_up_needs_no_variable_of_the_scale_profile():
    """Compose substitutes the variables of every service before it drops those of inactive
    profiles: a required one (`${X:?…}`) in a profile's service would stop `docker compose up`
    for everyone who does not use the profile."""
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert required == {"POSTGRES_PASSWORD"}  # the one every deployment sets
