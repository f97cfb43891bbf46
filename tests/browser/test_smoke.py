import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_page_renders_in_chinese_by_default(browser, live_server):
    browser.get(live_server.url + "/login/")
    assert "登录" in browser.page_source
