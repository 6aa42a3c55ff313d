"""Every menu entry of every demo role opens without an error (a smoke test of the pages)."""

from __future__ import annotations

import re

import pytest

from tests.demo import ROLES_WITH_CHILDREN, ROLES_WITHOUT_CHILDREN

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("username", ROLES_WITH_CHILDREN + ROLES_WITHOUT_CHILDREN)
def test_every_menu_entry_opens(username, login):
    client = login(username)
    home = client.get("/", follow=True)  # an agency supervisor lands on the dashboard
    assert home.status_code == 200
    nav = home.content.decode().split('id="mainnav"')[1].split("</ul>")[0]
    links = re.findall(r'href="(/[^"]*)"', nav)
    assert links, "the menu has entries"
    for link in links:
        response = client.get(link)
        assert response.status_code in (200, 302), (link, response.status_code)
