// The API's error envelope (docs/api.md §8), in words for the page: the message, and each
// detail next to the field it names.

export interface Problem {
  message: string;
  fields: Record<string, string>;
}

interface Envelope {
  error?: { message?: unknown; details?: unknown; retry_after?: unknown };
}

export function problemOf(body: unknown, status: number): Problem {
  const error = (body as Envelope | null)?.error;
  const message = typeof error?.message === "string" ? error.message : `The API answered ${status}.`;
  const fields: Record<string, string> = {};
  if (Array.isArray(error?.details)) {
    for (const detail of error.details as { field?: unknown; message?: unknown }[]) {
      if (typeof detail?.field !== "string" || typeof detail.message !== "string") continue;
      const field = detail.field.replace(/^body\./, "");
      fields[field] = fields[field] ? `${fields[field]} ${detail.message}` : detail.message;
    }
  }
  if (status === 429 && typeof error?.retry_after === "number") {
    return { message: `${message} Try again in ${error.retry_after} s.`, fields };
  }
  return { message, fields };
}
