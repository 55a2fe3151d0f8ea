"""Jobs (docs/api.md §10): bulk work too large for one request, driven by SQS.

- ``entities``: the job, its types, statuses and limits;
- ``models``: what ``POST /jobs`` accepts and what every route answers;
- ``repository``: the job, its slots, chunks and row errors in the table;
- ``service``: the API (create, read, list, cancel, errors);
- ``inputs``: reading JSONL and CSV input, streamed;
- ``rows``: one row through the synchronous endpoint's own service, exactly once;
- ``planner``, ``worker``, ``export``, ``callback``: what the queues drive.
"""
