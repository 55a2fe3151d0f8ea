"""Organizations: what the API takes and answers; an answer is built from its entity by ``of``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import ConfigDict, Field, StringConstraints

from umapi.api_model import ApiModel
from umapi.fields import NOT_BLANK

if TYPE_CHECKING:
    from umapi.orgs.entities import Organization

OrgName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Field(json_schema_extra=NOT_BLANK)
]


class CreateOrgRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: OrgName


class OrgResponse(ApiModel):
    id: str
    name: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, org: Organization) -> OrgResponse:
        return cls(id=org.id, name=org.name, created_at=org.created_at, updated_at=org.updated_at)
