"""Photos and signatures on the engineer's phone page and the desk page are served through the one
scoped attachment view, to those who may see the work order only; /media/ is never served."""

import importlib
import re

import pytest
from django.test import Client, override_settings
from django.urls import Resolver404, clear_url_caches, resolve, reverse

from fieldservice.field import services
from fieldservice.workorders.choices import AttachmentKind
from tests.field.conftest import ready_to_complete

IMG_SRC = re.compile(r'<img[^>]*\ssrc="([^"]+)"')


def image_sources(response) -> list[str]:
    assert response.status_code == 200
    return IMG_SRC.findall(response.content.decode())


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def finished(visit):
    ready_to_complete(visit)
    return visit


def attachment_urls(order) -> dict[str, bytes]:
    """The scoped URL of each photo and signature of the order, with the bytes stored for it."""
    urls = {}
    for item in order.attachments.filter(kind__in=[AttachmentKind.PHOTO, AttachmentKind.SIGNATURE]):
        with item.file.open("rb") as handle:
            urls[reverse("workorders:attachment", args=[item.pk])] = handle.read()
    return urls


@pytest.mark.parametrize("completed", [False, True], ids=["on_site", "completed"])
@pytest.mark.parametrize("page", ["field:order", "workorders:order_detail"])
def test_pages_show_photos_and_signature_through_the_scoped_view(finished, client_for, page, completed):
    p = finished
    if completed:
        services.complete_visit(p.order, actor=p.engineer)
    expected = attachment_urls(p.order)
    assert len(expected) == 2  # one photo, one signature
    client = client_for(p.engineer)
    sources = image_sources(client.get(reverse(page, args=[p.order.pk])))
    assert set(expected) <= set(sources)
    for src in sources:
        assert "/media/" not in src
        response = client.get(src)
        assert response.status_code == 200, src
        if src in expected:
            assert body(response) == expected[src]
            assert response["Content-Type"] in ("image/png", "image/jpeg")


def test_outsiders_and_anonymous_get_404_for_the_visits_images(finished):
    p = finished
    urls = attachment_urls(p.order)
    outsiders = [p.other_engineer, p.customer_user_a, p.customer_user_z, p.provider_engineer]
    for url in urls:
        for outsider in outsiders:
            client = Client()
            client.force_login(outsider)
            assert client.get(url).status_code == 404, (outsider.username, url)
        assert Client().get(url).status_code == 404, url


@override_settings(DEBUG=True)
def test_media_is_not_served_even_in_debug(finished):
    """Django's static() helper serves MEDIA_ROOT to anyone when DEBUG is on: the URLconf must not
    use it, so an uploaded file's storage path is never a public URL."""
    import fieldservice.urls

    photo = finished.order.attachments.filter(kind=AttachmentKind.PHOTO).get()
    media_path = "/media/" + photo.file.name
    try:
        importlib.reload(fieldservice.urls)
        clear_url_caches()
        with pytest.raises(Resolver404):
            resolve(media_path)
        assert Client().get(media_path).status_code == 404
        client = Client()
        client.force_login(finished.engineer)
        assert client.get(media_path).status_code == 404
        assert photo.file.storage.exists(photo.file.name)
    finally:
        importlib.reload(fieldservice.urls)
        clear_url_caches()
