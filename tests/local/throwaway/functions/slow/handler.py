"""Sleeps, then echoes its path parameter and process id (to prove parallel, isolated invocations)."""

import json
import os
import time
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(float((event.get("queryStringParameters") or {}).get("seconds", "0.5")))
    body = {"tag": event["pathParameters"]["tag"], "pid": os.getpid(), "function": context.function_name}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
