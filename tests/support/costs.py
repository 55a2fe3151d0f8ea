"""What a request costs in DynamoDB: calls, and items read (botocore's answers)."""

from __future__ import annotations

from typing import Any


class Reads:
    """DynamoDB calls of the handlers and the items each read."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.items = 0

    def __call__(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "GetItem":
            return  # the signing keys, refreshed now and then: not the listing's cost
        self.calls.append(model.name)
        if "ScannedCount" in parsed:
            self.items += int(parsed["ScannedCount"])
        elif "Responses" in parsed:
            self.items += sum(len(found) for found in parsed["Responses"].values())
        elif "Item" in parsed:
            self.items += 1
