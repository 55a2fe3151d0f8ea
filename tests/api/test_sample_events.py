"""The sample events in events/ are routable: each names a route of template.yaml and is valid JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devserver.template import Template

EVENTS = sorted((Path(__file__).resolve().parents[2] / "events").glob("*/*.json"))


SOURCES = {"aws:dynamodb": "DynamoDB", "aws:sqs": "SQS"}


def function_dir(template: Template, function_id: str) -> str:
    return str(template.resources[function_id]["Properties"]["CodeUri"]).strip("/").split("/")[-1]


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_event_matches_a_template_route_or_event_source(path: Path, template: Template) -> None:
    event = json.loads(path.read_text())
    if "Records" in event:  # a stream or queue batch: the function in its folder has that event source
        kind = SOURCES[event["Records"][0]["eventSource"]]
        consumers = [
            name
            for name, function in template.resources_of_type("AWS::Serverless::Function").items()
            if any(e["Type"] == kind for e in function["Properties"].get("Events", {}).values())
        ]
        assert path.parent.name in [function_dir(template, name) for name in consumers], path
        return
    routes = {
        (api["Properties"]["Method"].upper(), api["Properties"]["Path"], name)
        for name, function in template.resources_of_type("AWS::Serverless::Function").items()
        for api in function["Properties"].get("Events", {}).values()
        if api["Type"] == "Api"
    }
    matching = [
        name for method, resource, name in routes if (method, resource) == (event["httpMethod"], event["resource"])
    ]
    assert matching, f"{path.name}: no route for {event['httpMethod']} {event['resource']}"
    assert path.parent.name == function_dir(template, matching[0])
