"""Organizations: request/response models and the entity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from umapi.fields import NOT_BLANK

OrgName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Field(json_schema_extra=NOT_BLANK)
]


class CreateOrgRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: OrgName


class OrgResponse(BaseModel):
    id: str
    name: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    created_at: str
    updated_at: str

    def to_response(self) -> OrgResponse:
        return OrgResponse(id=self.id, name=self.name, created_at=self.created_at, updated_at=self.updated_at)
