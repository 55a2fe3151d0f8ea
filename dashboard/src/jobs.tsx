// Jobs: import users from a csv file with a live progress bar and each failed row's error, and
// export users to a file to download. The file is read here and sent as the job's rows (up to
// the API's 1 MiB request; larger imports go through the API's upload URL, docs/api.md §10).
import { useEffect, useState } from "preact/hooks";

import type { Api, Schemas } from "./api";
import { usersOf } from "./csv";
import { type Problem, problemOf } from "./errors";
import { can } from "./permissions";
import { Field, Notice } from "./ui";

type Job = Schemas["JobResponse"];
type RowError = Schemas["JobRowError"];
const FINISHED = new Set(["completed", "failed", "cancelled", "expired"]);
const POLL_MS = 1000;

export function JobsPage({ api, permissions }: { api: Api; permissions: readonly string[] }) {
  const [jobs, setJobs] = useState<Job[]>([]);
  const [watched, setWatched] = useState<Job | null>(null);
  const [errors, setErrors] = useState<RowError[]>([]);
  const [problem, setProblem] = useState<Problem | null>(null);

  async function loadJobs() {
    const { data, error, response } = await api.GET("/jobs", { params: { query: { limit: 20 } } });
    if (data) setJobs(data.data);
    else setProblem(problemOf(error, response.status));
  }

  useEffect(() => void loadJobs(), []);

  // Follow the job started here until it finishes: its progress, then its rows' errors.
  useEffect(() => {
    if (!watched || FINISHED.has(watched.status)) return;
    const timer = window.setTimeout(async () => {
      const { data } = await api.GET("/jobs/{job_id}", { params: { path: { job_id: watched.id } } });
      if (!data) return;
      setWatched(data);
      if (FINISHED.has(data.status)) {
        void loadJobs();
        if (data.failed > 0) {
          const rows = await api.GET("/jobs/{job_id}/errors", { params: { path: { job_id: data.id } } });
          if (rows.data) setErrors(rows.data.data);
        }
      }
    }, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [watched]);

  async function start(body: Schemas["BulkCreateJob"] | Schemas["ExportJob"]) {
    setErrors([]);
    const { data, error, response } = await api.POST("/jobs", { body });
    if (error || !data) {
      setProblem(problemOf(error, response.status));
      return;
    }
    setProblem(null);
    setWatched(data);
    void loadJobs();
  }

  async function importFile(file: File) {
    const users = usersOf(await file.text());
    if (!users.length) {
      setProblem({ message: "The file has no rows under its header.", fields: {} });
      return;
    }
    await start({ type: "bulk_user_create", data: { users } });
  }

  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <div class="panel-row">
        {can(permissions, "users:create") && (
          <div class="panel">
            <h2>Import users</h2>
            <Field id="import-file" label="A csv file" hint="Header row: email,name and any of role, department, phone, password, metadata">
              <input
                id="import-file"
                type="file"
                accept=".csv,text/csv"
                aria-describedby="import-file-hint"
                onChange={(e) => {
                  const file = e.currentTarget.files?.[0];
                  if (file) void importFile(file);
                }}
              />
            </Field>
          </div>
        )}
        <div class="panel">
          <h2>Export users</h2>
          <p class="hint">Every user of the organization, as a csv file.</p>
          <button type="button" onClick={() => void start({ type: "user_export", data: { format: "csv" } })}>
            Export users
          </button>
        </div>
      </div>
      <Notice problem={problem} />
      {watched && <Progress job={watched} />}
      {errors.length > 0 && (
        <table>
          <caption>Rows that failed</caption>
          <thead>
            <tr>
              <th scope="col">Line of the file</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {errors.map((row) => (
              <tr key={row.index}>
                <td>{row.index + 2 /* the header is line 1 */}</td>
                <td>
                  {row.error.message} {(row.error.details ?? []).map((d) => `${d.field}: ${d.message}`).join("; ")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Recent jobs</h2>
      <table>
        <caption class="visually-hidden">Recent jobs, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Rows</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id}>
              <td>
                <code>{job.id}</code>
              </td>
              <td>{job.type.replace(/_/g, " ")}</td>
              <td>
                <span class={`status status-${job.status}`}>{job.status}</span>
              </td>
              <td>
                {job.successful} ok, {job.failed} failed{job.total !== null ? ` of ${job.total}` : ""}
              </td>
              <td>{job.result_url && <a href={job.result_url}>Download</a>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Progress({ job }: { job: Job }) {
  const percent = Math.round(job.progress);
  return (
    <div class="panel" role="group" aria-labelledby="progress-label">
      <p id="progress-label">
        <code>{job.id}</code>: {job.type.replace(/_/g, " ")}, {job.status}
      </p>
      <progress id="job-progress" max={100} value={percent} aria-labelledby="progress-label">
        {percent} %
      </progress>
      <p role="status" aria-live="polite">
        {percent} % ({job.processed}
        {job.total !== null ? ` of ${job.total}` : ""} rows: {job.successful} ok, {job.failed} failed)
        {job.eta_seconds ? `, about ${job.eta_seconds} s left` : ""}
      </p>
      {job.result_url && (
        <p>
          <a href={job.result_url}>Download the export</a>
        </p>
      )}
    </div>
  );
}
