"""The OpenAPI document at /api/openapi.json tells the truth about every operation: each body and
answer is the schema the server validates, no two schema classes share a component name, every input
refuses unknown fields, over-long strings and NUL bytes, naming the field. The operations are read
from the document itself, so a new endpoint is covered without a new test."""

import json
from collections import defaultdict
from copy import deepcopy

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from ninja import Schema
from ninja.openapi.schema import OpenAPISchema

from fieldservice.api import api

DOC = api.get_openapi_schema()
COMPONENTS = DOC["components"]["schemas"]


def _operations():
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                if operation.include_in_schema:
                    yield operation


def _alone(operation) -> tuple[dict, dict]:
    """The operation as documented when it is the only one: no other can overwrite its schemas."""
    builder = OpenAPISchema.__new__(OpenAPISchema)
    builder.api, builder.path_prefix = api, ""
    builder.schemas, builder.securitySchemes, builder.all_operation_ids = {}, {}, set()
    return builder.operation_details(operation), builder.schemas


def _resolve(node, definitions: dict, seen=()):
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name in seen:  # a recursive schema: compare by name from here on
                return {"$ref": name}
            return _resolve(definitions[name], definitions, (*seen, name))
        return {key: _resolve(value, definitions, seen) for key, value in node.items() if key != "title"}
    if isinstance(node, list):
        return [_resolve(item, definitions, seen) for item in node]
    return node


def _documented():
    for path, methods in DOC["paths"].items():
        for method, details in methods.items():
            yield path, method, details


DOCUMENTED = {details["operationId"]: (path, method, details) for path, method, details in _documented()}
OPERATIONS = {operation: _alone(operation) for operation in _operations()}


def _schema_classes(cls=Schema):
    for sub in cls.__subclasses__():
        yield sub
        yield from _schema_classes(sub)


def test_no_two_schema_classes_share_a_component_name():
    modules = defaultdict(set)
    for cls in _schema_classes():
        if cls.__module__.startswith("fieldservice."):
            modules[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {name: sorted(where) for name, where in modules.items() if len(where) > 1}
    assert clashes == {}


@pytest.mark.parametrize(
    "operation", list(OPERATIONS), ids=[details["operationId"] for details, _defs in OPERATIONS.values()]
)
def test_every_operation_is_documented_with_the_schemas_the_server_uses(operation):
    alone, definitions = OPERATIONS[operation]
    path, method, documented = DOCUMENTED[alone["operationId"]]
    for part in ("requestBody", "responses", "parameters"):
        assert _resolve(deepcopy(documented.get(part)), COMPONENTS) == _resolve(alone.get(part), definitions), (
            f"{method.upper()} {path}: the document's {part} is not what the server validates"
        )


# Inputs: every operation with a body, as the document lists them.

# The writes a user calls (the device door, POST /api/v1/iot/messages, takes a device's token and
# answers in its own documented format: tests/iot/test_http.py).
WRITES = [
    (path, method, details)
    for path, method, details in _documented()
    if method in ("post", "put", "patch")
    and "requestBody" in details
    and details.get("security") != [{"DeviceToken": []}]
]


def _ids(writes):
    return [f"{method.upper()} {path}" for path, method, _details in writes]


def _media(details) -> tuple[str, dict]:
    content_type, media = next(iter(details["requestBody"]["content"].items()))
    return content_type, _resolve(media["schema"], COMPONENTS)


def _url(path: str, ids: dict) -> str:
    for name in {part.split("}")[0] for part in path.split("{")[1:]}:
        path = path.replace("{" + name + "}", str(ids.get(name, 1)))
    return path


@pytest.fixture
def admin_api(api_client_for, personas):
    from fieldservice.dispatch.rules import services as rule_services

    rule = rule_services.create_rule(actor=personas.admin, name="Any order")
    client = api_client_for(personas.admin)
    client.ids = {"rule_id": rule.pk}
    return client


def _send(client, path, method, details, body: dict):
    content_type, schema = _media(details)
    url = _url(path, client.ids)
    if content_type == "multipart/form-data":
        files = {
            name: SimpleUploadedFile(f"{name}.png", b"\x89PNG\r\n", content_type="image/png")
            for name, prop in schema["properties"].items()
            if prop.get("format") == "binary"
        }
        return client.generic(method.upper(), url, **_multipart({**files, **body}))
    return client.generic(method.upper(), url, json.dumps(body), content_type="application/json")


def _multipart(data: dict) -> dict:
    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


def _named(response) -> set:
    return {str(item["loc"][-1]) for item in response.json()["detail"]}


@pytest.mark.parametrize(("path", "method", "details"), WRITES, ids=_ids(WRITES))
def test_an_unknown_field_is_422_naming_it(admin_api, path, method, details):
    response = _send(admin_api, path, method, details, {"bogus_field": "x"})
    assert response.status_code == 422, response.content
    assert "bogus_field" in _named(response), response.json()


def _integers(schema, where: str):
    """Every integer in a (resolved) schema, with where it is."""
    if isinstance(schema, dict):
        if schema.get("type") == "integer":
            yield where, schema
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, []):
                yield from _integers(option, where)
        for name, prop in schema.get("properties", {}).items():
            yield from _integers(prop, f"{where}.{name}")
        if "items" in schema:
            yield from _integers(schema["items"], f"{where}[]")


INPUT_INTEGERS = [
    (f"{method.upper()} {path} {where}", schema)
    for path, method, details in _documented()
    for where, schema in [
        *(
            item
            for parameter in details.get("parameters", [])
            for item in _integers(_resolve(parameter["schema"], COMPONENTS), parameter["name"])
        ),
        *(_integers(_media(details)[1], "body") if "requestBody" in details else []),
    ]
]


@pytest.mark.parametrize(("where", "schema"), INPUT_INTEGERS, ids=[where for where, _schema in INPUT_INTEGERS])
def test_every_integer_input_is_bounded(where, schema):
    """An unbounded integer reaches the database as an overflow (a 500): each has a documented range
    that a database integer holds."""
    assert "minimum" in schema and "maximum" in schema, schema
    assert schema["minimum"] >= -(2**63) and schema["maximum"] <= 2**63 - 1


def _strings(schema, where: str = ""):
    """Every text property of a (resolved) body schema: (name, schema of the string)."""
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        # A number also accepted as text ("12.5") is parsed by the service, which names a bad one.
        if any(option.get("type") in ("number", "integer") or "pattern" in option for option in options):
            continue
        for option in options:
            if option.get("type") == "string" and "format" not in option:
                yield name, option


BODY_STRINGS = [
    (path, method, details, name, string)
    for path, method, details in WRITES
    for name, string in _strings(_media(details)[1])
]
BODY_STRING_IDS = [f"{method.upper()} {path} {name}" for path, method, _details, name, _string in BODY_STRINGS]


@pytest.mark.parametrize(("path", "method", "details", "name", "string"), BODY_STRINGS, ids=BODY_STRING_IDS)
def test_every_text_input_has_a_documented_maximum_length(path, method, details, name, string):
    if "enum" in string:  # a choice is bounded by its choices
        return
    assert 0 < string.get("maxLength", 0) <= 10_000, f"{method.upper()} {path} {name} has no maxLength"


@pytest.mark.parametrize(("path", "method", "details", "name", "string"), BODY_STRINGS, ids=BODY_STRING_IDS)
def test_text_longer_than_its_maximum_is_422_naming_the_field(admin_api, path, method, details, name, string):
    """Never cut silently (a 5,000-character reporter name stored as 100) nor passed to the database."""
    if "maxLength" not in string:
        pytest.skip("a choice")
    response = _send(admin_api, path, method, details, {name: "x" * (string["maxLength"] + 1)})
    assert response.status_code == 422, response.content
    assert name in _named(response), response.json()


@pytest.mark.parametrize(("path", "method", "details", "name", "string"), BODY_STRINGS, ids=BODY_STRING_IDS)
def test_a_nul_byte_in_text_is_422_naming_the_field(admin_api, path, method, details, name, string):
    response = _send(admin_api, path, method, details, {name: "a\x00b"})
    assert response.status_code == 422, response.content
    assert name in _named(response), response.json()


QUERY_STRINGS = [
    (path, parameter["name"])
    for path, method, details in _documented()
    if method == "get"
    for parameter in details.get("parameters", [])
    if parameter["in"] == "query" and "string" in json.dumps(_resolve(parameter["schema"], COMPONENTS))
]


@pytest.mark.parametrize(("path", "name"), QUERY_STRINGS, ids=[f"{path} {name}" for path, name in QUERY_STRINGS])
def test_a_nul_byte_in_a_query_parameter_is_422_naming_it(admin_api, path, name):
    """PostgreSQL cannot compare text holding NUL: it would be a 500 there."""
    response = admin_api.get(_url(path, admin_api.ids), {name: "a\x00b"})
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["query", name]
