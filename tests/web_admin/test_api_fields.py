"""The declarations the API validates with and the OpenAPI document agree:
for any JSON value, a declared body field accepts it exactly when the
field's schema in the document does (hypothesis), and a declared query
parameter refuses what its schema's bounds exclude."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from msghub.web.api_fields import Field, check_body
from msghub.web.pages.api import ApiFailure
from msghub.web.pages.openapi import DECLARED, document

BODY_FIELDS = sorted({(op.operation_id, f) for op in DECLARED for f in op.body or ()}, key=lambda p: (p[0], p[1].name))
QUERY_FIELDS = sorted({(op.operation_id, f) for op in DECLARED for f in op.query if f.kind != "date"},
                      key=lambda p: (p[0], p[1].name))
JSON_VALUES = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=1100)


def _accepts(field: Field, value: object) -> bool:
    try:
        check_body({field.name: value}, [field])
    except ApiFailure as failure:
        assert failure.status == 400 and failure.field == field.name
        return False
    return True


@pytest.mark.parametrize(("operation", "field"), BODY_FIELDS, ids=[f"{o}.{f.name}" for o, f in BODY_FIELDS])
@given(value=JSON_VALUES)
def test_a_body_field_accepts_what_its_schema_accepts(operation, field, value):
    schema = field.schema()
    valid = jsonschema.Draft202012Validator(schema).is_valid(value)
    assert _accepts(field, value) == valid, (operation, field.name, value, schema)


@pytest.mark.parametrize(("operation", "field"), QUERY_FIELDS, ids=[f"{o}.{f.name}" for o, f in QUERY_FIELDS])
@given(value=st.integers(min_value=-5, max_value=2**64) | st.text(max_size=300))
def test_a_query_parameter_accepts_what_its_schema_accepts(operation, field, value):
    text = str(value)
    schema = field.schema()
    try:
        parsed = field.from_text(text)
    except ApiFailure:
        parsed = ApiFailure
    if parsed is ApiFailure:
        # refused: the text is not a value of the schema
        as_value = int(text) if field.kind == "integer" and text.isascii() and text.isdigit() else text
        if text == "" and field.kind != "string":
            return  # an empty parameter counts as not given
        assert not jsonschema.Draft202012Validator(schema).is_valid(as_value), (operation, field.name, text)
    elif not (text == "" and field.kind != "string"):
        assert jsonschema.Draft202012Validator(schema).is_valid(parsed), (operation, field.name, text, parsed)


def test_required_and_unknown_body_fields():
    for op in DECLARED:
        if op.body is None:
            continue
        path = document()["paths"][op.document_path][op.method.lower()]
        schema = path["requestBody"]["content"]["application/json"]["schema"]
        assert set(schema["required"]) == {f.name for f in op.body if f.required}
        assert schema["additionalProperties"] is False
        with pytest.raises(ApiFailure) as refused:
            check_body({"no_such_field": 1}, op.body)
        assert refused.value.code == "unknown_field"
