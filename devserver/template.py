"""What the local runtime needs from template.yaml, read from the template itself."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse

from devserver.event_filter import UnsupportedFilterError, parse_filters

ACCOUNT_ID = "123456789012"


@dataclass
class Template:
    path: Path
    body: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Template:
        return cls(path=path.resolve(), body=yaml_parse(path.read_text()))

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Resources", {}))

    def resources_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res.get("Type") == resource_type}

    def parameter_defaults(self) -> dict[str, str]:
        return {name: str(spec.get("Default", "")) for name, spec in self.body.get("Parameters", {}).items()}

    def function_environment(self, function_id: str) -> dict[str, Any]:
        """The function's raw (unresolved) environment: Globals first, then its own."""
        global_vars = self.body.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        own = self.resources[function_id].get("Properties", {}).get("Environment", {}).get("Variables", {})
        return {**global_vars, **own}


@dataclass
class Intrinsics:
    """Resolves Ref, Fn::GetAtt and Fn::Sub against the locally created resources."""

    region: str
    stack_name: str
    parameters: dict[str, str]
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref":
                return self._ref(argument)
            if name == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.attributes[logical_id][attribute]
            if name == "Fn::Sub" and isinstance(argument, str):
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), argument)
            if name == "Fn::Select":
                position, items = argument
                return self.resolve(items)[int(position)]
            if name == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if name == "Fn::Join":
                separator, parts = argument
                resolved = self.resolve(parts)
                items = resolved.split(",") if isinstance(resolved, str) else [self.resolve(p) for p in resolved]
                return separator.join(str(item) for item in items)
            raise KeyError(f"{name} is not evaluated locally")
        return value

    def resolvable(self, value: Any) -> bool:
        try:
            self.resolve(value)
        except KeyError:
            return False
        return True

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{self.stack_name}/"
            + str(uuid.uuid5(uuid.NAMESPACE_URL, self.stack_name)),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.attributes[name]["Ref"]

    def _sub(self, expression: str) -> str:
        if "." in expression:
            logical_id, attribute = expression.split(".", 1)
            return self.attributes[logical_id][attribute]
        return self._ref(expression)


@dataclass(frozen=True)
class EventSourceMapping:
    """One DynamoDB or SQS event of a function (the properties SAM documents, with its defaults)."""

    function_id: str
    kind: str  # "DynamoDB" or "SQS"
    source_arn: str
    batch_size: int
    starting_position: str = "TRIM_HORIZON"
    maximum_retry_attempts: int = -1
    bisect_on_error: bool = False
    report_batch_item_failures: bool = False
    maximum_concurrency: int = 5
    filters: tuple[dict[str, Any], ...] = ()  # FilterCriteria patterns (devserver.event_filter)


def event_source_mappings(template: Template, intrinsics: Intrinsics) -> list[EventSourceMapping]:
    mappings = []
    for function_id, resource in template.resources_of_type("AWS::Serverless::Function").items():
        for event_name, event in resource.get("Properties", {}).get("Events", {}).items():
            kind, props = event.get("Type"), event.get("Properties", {})
            if kind not in ("DynamoDB", "SQS") or props.get("Enabled", True) is False:
                continue
            try:
                filters = tuple(parse_filters(props.get("FilterCriteria", {})))
            except UnsupportedFilterError as error:
                raise NotImplementedError(f"{function_id}.{event_name}: {error} by the local runtime") from error
            source = intrinsics.resolve(props["Stream"] if kind == "DynamoDB" else props["Queue"])
            mappings.append(
                EventSourceMapping(
                    function_id=function_id,
                    kind=kind,
                    source_arn=source,
                    batch_size=int(props.get("BatchSize", 100 if kind == "DynamoDB" else 10)),
                    starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
                    maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                    bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
                    report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    maximum_concurrency=int(props.get("ScalingConfig", {}).get("MaximumConcurrency", 5)),
                    filters=filters,
                )
            )
    return mappings
