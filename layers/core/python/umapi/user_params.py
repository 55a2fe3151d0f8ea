"""What the users routes take and answer beyond their models: the shaping query parameters
(``include=``, ``fields=``) and the shaped answers as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from umapi.pagination import Page
from umapi.users.models import BulkCreateResult, UserView, VerificationSent
from umapi.users.shaping import FIELDS, INCLUDES, pattern_of

# The pattern documents the grammar; parse_names checks it, answering with the unknown names.
Include = Annotated[
    str | None,
    Query(
        max_length=200,
        description="extras to add, comma-separated: " + ", ".join(INCLUDES),
        json_schema_extra={"pattern": pattern_of(INCLUDES)},
    ),
]
Fields = Annotated[
    str | None,
    Query(
        max_length=500,
        description="the fields to answer with, comma-separated (id is always there; an extra only when included)",
        json_schema_extra={"pattern": pattern_of(FIELDS)},
    ),
]

# The shaped answers (include=, fields=) as the OpenAPI document shows them: typed views.
USER_VIEW: Any = {"description": "The user", "content": {"application/json": {"model": UserView}}}
USER_PAGE: Any = {"description": "A page of users", "content": {"application/json": {"model": Page[UserView]}}}
NOT_MODIFIED: Any = {"description": "Not modified (If-None-Match)"}
BULK_RESULT: Any = {
    "description": "One result per row, in order",
    "content": {"application/json": {"model": BulkCreateResult}},
}
VERIFICATION_SENT: Any = {
    "description": "Accepted: the email is on its way",
    "content": {"application/json": {"model": VerificationSent}},
}
