"""The board's map has a base layer (issue 10, item 12): province, city and district borders with their
names, for the area in view, from the installed data package, with no network."""

import socket

import pytest

from fieldservice.dispatch.demo import NINGBO_RING

# The demo's orders lie round Ningbo (the demo's area polygon).
WEST = min(p[0] for p in NINGBO_RING)
EAST = max(p[0] for p in NINGBO_RING)
SOUTH = min(p[1] for p in NINGBO_RING)
NORTH = max(p[1] for p in NINGBO_RING)
BBOX = f"{WEST},{SOUTH},{EAST},{NORTH}"


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def names(payload, level):
    return {f["name"] for f in payload["features"] if f["level"] == level}


def test_the_map_endpoint_returns_borders_and_names_of_the_demo_area_offline(client_for, board, no_network):
    response = client_for(board.dispatcher).get(f"/board/boundaries.json?bbox={BBOX}&zoom=10")
    assert response.status_code == 200
    payload = response.json()
    assert payload["levels"] == ["province", "city", "district"]
    assert "浙江省" in names(payload, "province")
    assert {"宁波市", "绍兴市"} <= names(payload, "city")
    assert {"海曙区", "鄞州区", "北仑区", "余姚市", "慈溪市"} <= names(payload, "district")
    for feature in payload["features"]:
        assert feature["paths"] and all(len(line) >= 2 for line in feature["paths"])
        assert all(118 < lng < 124 and 27 < lat < 32 for line in feature["paths"] for lng, lat in line)
        lng, lat = feature["label"]
        assert 118 < lng < 124 and 27 < lat < 32
    haishu = next(f for f in payload["features"] if f["name"] == "海曙区")
    assert 121.3 < haishu["label"][0] < 121.6 and 29.8 < haishu["label"][1] < 30.0
    assert response["Cache-Control"] == "private, max-age=86400"


def test_districts_come_only_when_zoomed_in_and_only_for_the_area_in_view(client_for, board, no_network):
    client = client_for(board.dispatcher)
    wide = client.get("/board/boundaries.json?bbox=110,20,125,35&zoom=5").json()
    assert wide["levels"] == ["province"]
    assert {"浙江省", "江苏省", "福建省"} <= names(wide, "province") and not names(wide, "district")
    assert "新疆维吾尔自治区" not in names(wide, "province")
    city = client.get(f"/board/boundaries.json?bbox={BBOX}&zoom=8").json()
    assert city["levels"] == ["province", "city"] and "宁波市" in names(city, "city")
    assert not names(city, "district")
    near = client.get(f"/board/boundaries.json?bbox={BBOX}&zoom=10").json()
    assert "西湖区" not in names(near, "district")  # Hangzhou's, outside the view
    # The coarser the zoom, the fewer the points of one border.
    points = {
        zoom: sum(len(line) for f in payload["features"] if f["name"] == "宁波市" for line in f["paths"])
        for zoom, payload in ((8, city), (10, near))
    }
    assert 0 < points[8] < points[10]


@pytest.mark.parametrize(
    ("query", "field"),
    [("bbox=1,2,3&zoom=9", "bbox"), ("bbox=122,29,121,30&zoom=9", "bbox"), (f"bbox={BBOX}&zoom=x", "zoom")],
)
def test_a_bad_area_is_refused_naming_the_parameter(client_for, board, query, field):
    response = client_for(board.dispatcher).get(f"/board/boundaries.json?{query}")
    assert response.status_code == 400 and field in response.json()["errors"]


def test_the_board_page_tells_its_script_where_the_borders_are(client_for, board):
    html = client_for(board.dispatcher).get("/board/?view=map").content.decode()
    assert '"boundaries": "/board/boundaries.json"' in html
