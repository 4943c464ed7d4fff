"""Schemathesis against the shim's own OpenAPI document: no 500s, no response off the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from concord.api import create_app
from concord.services import boards, lists

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# The OpenAPI document needs no database; each test then serves the app on its own database.
schema = schemathesis.openapi.from_dict(create_app().openapi())


@pytest.fixture
def app_on_test_database(db):
    # A board and a list to hit, so generated ids sometimes exist.
    board = db.transact(boards.create_board, "Fuzzed")
    db.transact(lists.create_list, board.id, "Todo")
    return create_app(db=db)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_500_or_an_off_schema_response(case, app_on_test_database):
    case.call_and_validate(checks=CHECKS, app=app_on_test_database)
