"""A mixed day's work for the concurrent run of `bench/run.py` (locust, headless).

Child directors open their work list, the list, search (the rows htmx fetches as they type),
open a file, log a home visit through the form and submit an assessment through the API;
supervisors (township, county, city, province) open lists, filtered and deep pages, search, the
dashboard and the API list; the school counsellor and the clinician open their lists and
files. Every simulated person uses the session `run.py` signed in through the real login (and
two-factor) pages for that role, from the plan file named by BENCH_LOAD_PLAN. Not meant to be
run alone.
"""

from __future__ import annotations

import json
import os
import random
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, task

with open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8") as _plan_file:
    PLAN: dict[str, Any] = json.load(_plan_file)
ORIGIN: str = PLAN["origin"]
SUPERVISORS = [r for r in ("township", "county", "city", "province") if r in PLAN["roles"]]
CARE_ROLES = [r for r in ("counsellor", "clinician") if r in PLAN["roles"]]


class FormFields(HTMLParser):
    """The fields of the page's forms as a browser would send them untouched (the defaults)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, list[str]]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._select_first: str | None = None

    def _add(self, name: str | None, value: str) -> None:
        if name and self.forms:
            self.forms[-1].setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({})
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(a.get("name"), a.get("value", "on"))
            elif kind not in ("submit", "button", "file", "reset"):
                self._add(a.get("name"), a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._add(self._textarea, "")
        elif tag == "select":
            self._select, self._select_first = a.get("name"), None
        elif tag == "option" and self._select:
            if self._select_first is None:
                self._select_first = a.get("value", "")
            if "selected" in a:
                self._add(self._select, a.get("value", ""))
                self._select = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            self._add(self._select, self._select_first or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1][self._textarea][-1] += data


class Person(FastHttpUser):
    """One signed-in person of a role; the subclasses are the kinds of work. The client is
    locust's cheaper one (geventhttpclient): on the two cores the app and PostgreSQL share with
    locust, every millisecond the load generator spends is one the app does not get."""

    abstract = True
    # Short pauses: 50 people at 0.25 s between requests could ask for up to 200 requests a
    # second, so the figure is what the server answers, not what the pauses allow (with the
    # 0.2–1.0 s pauses of an earlier run, 50 users could never have asked for 100 a second).
    wait_time = between(0.1, 0.4)
    role_choices: list[str] = []

    def on_start(self) -> None:
        self.role = random.choice(self.role_choices)
        self.plan = PLAN["roles"][self.role]
        cookies = "; ".join(f"{k}={v}" for k, v in self.plan["cookies"].items())
        # The session cookies are Secure: sent by hand, as the browser behind the proxy would.
        self.headers = {"Cookie": cookies, "X-Forwarded-Proto": "https"}

    def open(self, path: str, name: str, *, rows_of: str = "") -> None:
        """GET a page; with `rows_of`, as htmx asks for the list's rows alone when a search is
        typed or a filter changes on the open list (the element id it targets)."""
        headers = self.headers
        if rows_of:
            headers = {**headers, "HX-Request": "true", "HX-Target": rows_of}
        # Not following redirects: a page that sends the person to sign in is a failure.
        with self.client.get(
            path, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")

    def post_headers(self, path: str) -> dict[str, str]:
        return {
            **self.headers,
            "Origin": ORIGIN,
            "Referer": ORIGIN + path,
            "X-CSRFToken": self.plan["cookies"].get("csrftoken", ""),
        }

    def submit_assessment(self) -> None:
        body = self.plan["assessment"]
        if body is None:
            return
        path = "/api/v1/assessments/"
        with self.client.post(
            path,
            json=body,
            headers=self.post_headers(path),
            name="POST /api/v1/assessments/",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"status {response.status_code}")


class Director(Person):
    """A village child director: most of the people, most of the writes."""

    weight = 6
    role_choices = ["director"]

    @task(3)
    def work_list(self) -> None:
        self.open("/", "/")

    @task(2)
    def child_list(self) -> None:
        self.open("/children/", "/children/")

    @task(2)
    def search(self) -> None:
        # Typed in the open list's search box: htmx fetches the rows.
        self.open(
            "/children/?" + urlencode({"q": self.plan["name"]}),
            "/children/?q= (rows)",
            rows_of="child-rows",
        )

    @task(3)
    def child_file(self) -> None:
        self.open(f"/children/{self.plan['child_id']}/", "/children/[id]/")

    @task(1)
    def log_visit(self) -> None:
        child = self.plan["visit_child_id"]
        if child is None:
            return
        path = f"/visits/new/{child}/"
        form = self.client.get(path, name="/visits/new/[id]/", headers=self.headers)
        parser = FormFields()
        parser.feed(form.text or "")
        fields = next((f for f in parser.forms if "submission_key" in f), None)
        if fields is None:
            return
        with self.client.post(
            path,
            data=urlencode(fields, doseq=True),
            headers={
                **self.post_headers(path),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            name="POST /visits/new/[id]/",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")

    @task(1)
    def assessment(self) -> None:
        self.submit_assessment()


class Supervisor(Person):
    """A township, county, city or province supervisor: lists and dashboards."""

    weight = 3
    role_choices = SUPERVISORS

    @task(3)
    def child_list(self) -> None:
        self.open("/children/", "/children/")

    @task(2)
    def filtered(self) -> None:
        self.open("/children/?risk=3&risk=4", "/children/?risk=")

    @task(1)
    def deep_page(self) -> None:
        self.open(f"/children/?page={self.plan['deep_page']}", "/children/?page=")

    @task(1)
    def search(self) -> None:
        self.open(
            "/children/?" + urlencode({"q": self.plan["name"]}),
            "/children/?q= (rows)",
            rows_of="child-rows",
        )

    @task(2)
    def dashboard(self) -> None:
        if self.plan["dashboard"]:
            self.open("/dashboards/", "/dashboards/")

    @task(2)
    def api_list(self) -> None:
        self.open("/api/v1/children/", "/api/v1/children/")


class CareTeam(Person):
    """A school counsellor or a clinician: their children, their files, an assessment."""

    weight = 1
    role_choices = CARE_ROLES

    @task(2)
    def work_list(self) -> None:
        self.open("/", "/")

    @task(2)
    def child_list(self) -> None:
        self.open("/children/", "/children/")

    @task(3)
    def child_file(self) -> None:
        if self.plan["child_id"] is not None:
            self.open(f"/children/{self.plan['child_id']}/", "/children/[id]/")

    @task(1)
    def assessment(self) -> None:
        self.submit_assessment()
