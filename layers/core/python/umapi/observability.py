"""Logger, Tracer and Metrics shared by every function (Powertools).

Service name and metrics namespace come from ``POWERTOOLS_*`` variables set in
template.yaml's Globals. Never log events, tokens, passwords or secrets: log ids.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# A request that records no business metric is normal; the warning would only add noise.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(utc=True)
# Only what the functions use: the AWS SDK and outbound HTTP (webhook posts). patch_all would
# also import and patch sqlite3, requests, aiohttp, pymongo, psycopg... if present: cold-start time.
tracer = Tracer(patch_modules=("botocore", "httplib"))
metrics = Metrics()
