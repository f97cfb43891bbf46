import pytest
from django.test import Client, RequestFactory

from fieldservice.site.views import error_500


def test_an_unknown_address_gets_the_friendly_404_page(personas, client_for):
    response = client_for(personas.agent).get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "This page does not exist" in body
    assert "Traceback" not in body


def test_a_forbidden_page_gets_the_friendly_403_page(personas, client_for):
    response = client_for(personas.engineer).get("/customers/new/")
    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()


def test_the_500_page_needs_no_database_and_speaks_both_languages():
    response = error_500(RequestFactory().get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "出错了" in body and "Something went wrong" in body


def test_pages_need_a_sign_in(db):
    response = Client().get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("who", "sees", "does_not_see"),
    [
        ("agent", ["/customers/", "/assets/equipment/", "/import/"], ["/users/"]),
        ("admin", ["/customers/", "/users/", "/import/"], []),
        ("customer_user_a", ["/customers/", "/assets/equipment/"], ["/users/", "/import/", "/engineers/"]),
        ("provider_admin", ["/customers/", "/engineers/"], ["/users/", "/import/"]),
    ],
)
def test_navigation_follows_the_roles(personas, client_for, who, sees, does_not_see):
    body = client_for(getattr(personas, who)).get("/").content.decode()
    for href in sees:
        assert f'href="{href}"' in body, href
    for href in does_not_see:
        assert f'href="{href}"' not in body, href


def test_the_start_page_counts_only_what_the_user_may_see(personas, client_for):
    from tests import factories

    factories.equipment(personas.customer_a)
    factories.equipment(personas.customer_z)
    factories.equipment(personas.customer_z)
    response = client_for(personas.customer_user_a).get("/")
    assert response.context["cards"] == {"customers": 1, "equipment": 1}
    response = client_for(personas.agent).get("/")
    assert response.context["cards"]["equipment"] == 3


def test_only_the_most_specific_navigation_entry_is_active(personas, client_for):
    client = client_for(personas.dispatcher)
    for path, expected in (("/dispatch/rules/", "/dispatch/rules/"), ("/dispatch/", "/dispatch/"), ("/", "/")):
        navigation = client.get(path).context["navigation"]
        items = [item for group in navigation for item in group["items"]]
        assert [item["url"] for item in items if item["active"]] == [expected]
        assert [group["active"] for group in navigation].count(True) == 1
