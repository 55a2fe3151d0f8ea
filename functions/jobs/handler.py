"""Jobs: bulk work too large for one request (docs/api.md §10). The routes create, read, list and
cancel jobs; SQS drives them (functions/job_planner, functions/job_worker)."""

from umapi import startup  # first: the function loads with the garbage collector paused

# isort: split

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from umapi.access.principal import Principal
from umapi.dependencies import authenticate_event, requires
from umapi.http import create_app, json_response, location
from umapi.idempotency import idempotent
from umapi.jobs.entities import TYPE_PERMISSIONS
from umapi.jobs.models import CreatedJobResponse, CreateJobRequest, JobResponse, JobRowError
from umapi.observability import logger, metrics, tracer
from umapi.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from umapi.routing import Jobs, Meta, VerifyUrl

app = create_app(authenticate=authenticate_event)

NO_STORE = {"Cache-Control": "no-store"}


@app.post("/jobs", status_code=202, response_description="Accepted: the job runs from the queue")
@idempotent(app)
@tracer.capture_method
def create_job(
    request: Annotated[CreateJobRequest, Body()],
    # The permission is the type's (the service checks it before anything is written).
    caller: Annotated[Principal, Depends(requires(by_type=TYPE_PERMISSIONS))],
    meta: Meta,
    jobs: Jobs,
    verify_url: VerifyUrl,
) -> Response[CreatedJobResponse]:
    answer, job_id = jobs.create(caller, request, meta, verify_url)
    where = location(app.current_event.raw_event, f"/jobs/{job_id}")
    metrics.add_metric(name="JobsCreated", unit="Count", value=1)
    return json_response(answer, 202, {"Location": where, **NO_STORE})


@app.get("/jobs")
@tracer.capture_method
def list_jobs(
    caller: Annotated[Principal, Depends(requires("users:read"))],
    jobs: Jobs,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    status: Literal["awaiting_upload", "queued", "processing", "completed", "failed", "cancelled", "expired"]
    | None = None,
    type: Literal["bulk_user_create", "bulk_user_update", "bulk_role_assignment", "user_export"] | None = None,
) -> Response[Page[JobResponse]]:
    return json_response(jobs.list_page(caller, status, type, limit, cursor))


@app.get("/jobs/<job_id>")
@tracer.capture_method
def get_job(
    job_id: str, caller: Annotated[Principal, Depends(requires("users:read"))], jobs: Jobs
) -> Response[JobResponse]:
    return json_response(jobs.get(caller, job_id), headers=NO_STORE)


@app.get("/jobs/<job_id>/errors")
@tracer.capture_method
def list_job_errors(
    job_id: str,
    caller: Annotated[Principal, Depends(requires("users:read"))],
    jobs: Jobs,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response[Page[JobRowError]]:
    return json_response(jobs.errors_page(caller, job_id, limit, cursor))


@app.post("/jobs/<job_id>/cancel")
@tracer.capture_method
def cancel_job(
    job_id: str,
    # Cancelling needs the permission of the job's type; the service checks it.
    caller: Annotated[Principal, Depends(requires(by_type=TYPE_PERMISSIONS))],
    jobs: Jobs,
) -> Response[JobResponse]:
    return json_response(jobs.cancel(caller, job_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


startup.finished()
