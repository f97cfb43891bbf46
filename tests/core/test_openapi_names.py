"""Two API schemas with one class name share one entry of the OpenAPI document: one of them is
then described with the other's fields, and clients and fuzzers are told the wrong shape."""

from ninja import Schema

from fieldservice.api import api


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_api_schema_has_a_name_of_its_own():
    api.get_openapi_schema()  # imports every router and so every schema
    seen: dict[str, str] = {}
    clashes = []
    for cls in _subclasses(Schema):
        if not cls.__module__.startswith("fieldservice.") or cls.__name__ in ("StrictSchema",):
            continue
        where = f"{cls.__module__}.{cls.__qualname__}"
        if cls.__name__ in seen and seen[cls.__name__] != where:
            clashes.append((cls.__name__, seen[cls.__name__], where))
        seen.setdefault(cls.__name__, where)
    assert not clashes, clashes
