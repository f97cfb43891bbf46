"""The history on an object's page: logged values read as words in the reader's language, never as
Python's True or ['a', 'b']."""

import pytest
from django.urls import reverse
from django.utils import translation

from fieldservice.accounts.templatetags.fsm import change_value

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "value", "shown"),
    [
        ("zh-hans", True, "是"),
        ("zh-hans", False, "否"),
        ("en", True, "Yes"),
        ("zh-hans", ["管理员", "调度员"], "管理员、调度员"),
        ("en", ["Administrator", "Dispatcher"], "Administrator, Dispatcher"),
        ("en", None, "—"),
        ("en", "", "—"),
        ("en", [], "—"),
        ("en", 0, 0),
        ("en", "Ningbo", "Ningbo"),
    ],
)
def test_a_logged_value_reads_as_words(language, value, shown):
    with translation.override(language):
        assert change_value(value) == shown


def test_the_customer_history_shows_no_python_literals(personas, client_for):
    html = (
        client_for(personas.admin)
        .get(reverse("customers:detail", args=[personas.customer_a.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
    )
    assert 'id="event-log"' in html
    assert ">True<" not in html and ">False<" not in html
