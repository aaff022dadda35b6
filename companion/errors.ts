// Errors a user (or the plugin) should read: they carry a protocol error code and plain words.
// Anything else thrown inside a job is a bug and is reported as "internal".
import type { ErrorCode } from "../shared/protocol";

export class UserError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/** The standard error for a cancelled job, matching what `AbortSignal` consumers expect. */
export function abortError(): Error {
  return new DOMException("The job was cancelled", "AbortError");
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}
