"""Echoes a validated JSON body through the shared layer's resolver."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict

from umapi.http import create_app

app = create_app()


class EchoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str


@app.post("/echo")
def echo(request: Annotated[EchoRequest, Body()]) -> dict[str, Any]:
    return {"message": request.message}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
