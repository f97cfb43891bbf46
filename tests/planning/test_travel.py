"""Travel matrices: great-circle estimate, OSRM table client (against a local fake server), explicit."""

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from django.test import override_settings

from fieldservice.planning.optimiser import ExplicitMatrix, GeoPoint, GreatCircle, OsrmTable, TravelError
from fieldservice.planning.optimiser.travel import UNREACHABLE, default_source, great_circle_m

NINGBO = GeoPoint(29.868336, 121.543990)
CIXI = GeoPoint(30.17, 121.24)
SHANGHAI = GeoPoint(31.23, 121.47)


def test_great_circle_distance_of_a_known_pair():
    # One degree of latitude along a meridian is 111.19 km on a 6371 km sphere.
    assert great_circle_m(GeoPoint(30, 121), GeoPoint(31, 121)) == pytest.approx(111_195, abs=1)


def test_matrix_from_coordinates_is_great_circle_times_factor_over_speed():
    matrix = GreatCircle(road_factor=1.3, speed_kmh=40).matrix([NINGBO, CIXI, SHANGHAI])
    for i, a in enumerate([NINGBO, CIXI, SHANGHAI]):
        for j, b in enumerate([NINGBO, CIXI, SHANGHAI]):
            metres = great_circle_m(a, b) * 1.3
            assert matrix.distances[i, j] == round(metres)
            assert matrix.durations[i, j] == round(metres / (40 / 3.6))
    assert matrix.durations[0, 0] == 0
    assert matrix.durations[0, 2] > 3600  # Ningbo - Shanghai: well over an hour at 40 km/h


@override_settings(FSM_ROAD_FACTOR=1.5, FSM_TRAVEL_SPEED_KMH=60.0, FSM_OSRM_URL="")
def test_settings_choose_the_factor_and_speed():
    source = default_source()
    assert isinstance(source, GreatCircle)
    matrix = source.matrix([NINGBO, CIXI])
    assert matrix.durations[0, 1] == round(great_circle_m(NINGBO, CIXI) * 1.5 / (60 / 3.6))


def test_great_circle_needs_coordinates():
    with pytest.raises(TravelError):
        GreatCircle().matrix([NINGBO, "somewhere"])


def test_explicit_matrix_picks_rows_and_columns():
    source = ExplicitMatrix(["a", "b", "c"], [[0, 1, 2], [3, 0, 4], [5, 6, 0]])
    matrix = source.matrix(["c", "a"])
    assert matrix.durations.tolist() == [[0, 5], [2, 0]]
    with pytest.raises(TravelError):
        source.matrix(["a", "z"])


class _FakeOsrm(BaseHTTPRequestHandler):
    calls: list = []
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        type(self).calls.append(parts)
        if type(self).status != 200:
            self.send_response(type(self).status)
            self.end_headers()
            self.wfile.write(json.dumps({"code": "TooBig", "message": "Too many table coordinates"}).encode())
            return
        coordinates = [tuple(map(float, c.split(","))) for c in parts.path.rsplit("/", 1)[1].split(";")]
        query = parse_qs(parts.query)
        sources = [int(i) for i in query["sources"][0].split(";")]
        destinations = [int(i) for i in query["destinations"][0].split(";")]

        def seconds(i, j):
            (x1, y1), (x2, y2) = coordinates[i], coordinates[j]
            if (x2, y2) == (0.0, 0.0):
                return None  # an island: no road
            return round(abs(x1 - x2) * 1000 + abs(y1 - y2) * 1000, 1)

        durations = [[seconds(i, j) for j in destinations] for i in sources]
        distances = [[None if d is None else d * 10 for d in row] for row in durations]
        body = {"code": "Ok", "durations": durations, "distances": distances}
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    _FakeOsrm.calls = []
    _FakeOsrm.status = 200
    server = HTTPServer(("127.0.0.1", 0), _FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_osrm_table_in_blocks(osrm):
    points = [GeoPoint(30 + i / 100, 121 + i / 50) for i in range(5)]
    matrix = OsrmTable(osrm, max_table=2).matrix(points)
    assert len(_FakeOsrm.calls) == 9  # 3 source blocks x 3 destination blocks
    for i, a in enumerate(points):
        for j, b in enumerate(points):
            expected = (
                0 if i == j else round(abs(a.longitude - b.longitude) * 1000 + abs(a.latitude - b.latitude) * 1000)
            )
            assert matrix.durations[i, j] == expected
            assert matrix.distances[i, j] == pytest.approx(expected * 10, abs=10)
    assert not matrix.warnings


def test_osrm_without_a_road_is_unreachable(osrm):
    matrix = OsrmTable(osrm).matrix([GeoPoint(30, 121), GeoPoint(0, 0)])
    assert matrix.durations[0, 1] == UNREACHABLE


def test_osrm_failure_falls_back_with_a_clear_warning(osrm):
    _FakeOsrm.status = 400
    points = [NINGBO, CIXI]
    matrix = OsrmTable(osrm, fallback=GreatCircle(1.3, 40)).matrix(points)
    assert np.array_equal(matrix.durations, GreatCircle(1.3, 40).matrix(points).durations)
    assert len(matrix.warnings) == 1
    assert "OSRM failed" in matrix.warnings[0] and "Too many table coordinates" in matrix.warnings[0]
    with pytest.raises(TravelError, match="HTTP 400"):
        OsrmTable(osrm).matrix(points)


def test_osrm_server_down_is_a_clear_error():
    with pytest.raises(TravelError, match="no usable answer"):
        OsrmTable("http://127.0.0.1:9", timeout=1).matrix([NINGBO, CIXI])


def test_osrm_is_the_default_when_configured(osrm):
    with override_settings(FSM_OSRM_URL=osrm):
        source = default_source()
        assert isinstance(source, OsrmTable)
        matrix = source.matrix([NINGBO, CIXI])
    assert _FakeOsrm.calls and matrix.durations[0, 1] > 0
    assert math.isclose(matrix.durations[1, 0], matrix.durations[0, 1], abs_tol=1)
