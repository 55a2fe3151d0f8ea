"""Shared code of the User Management API, shipped to every function as the CoreLayer.

Modules:
    settings       lazily read, validated settings
    aws            cached boto3 clients (honour ``AWS_ENDPOINT_URL``)
    ids            prefixed ULID identifiers (``org_…``, ``req_…``)
    keys           every DynamoDB key format, in one place
    errors         domain errors (no HTTP in them)
    http           the resolver factory: body guards, error envelope, ``X-Request-Id``
    observability  Logger, Tracer and Metrics
    health         backend probes for ``GET /health``
    startup        cold start: handlers load with the garbage collector paused
"""
