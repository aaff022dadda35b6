// Several inputs, one after another: a failure on one is named and the rest still run; the
// summary ("2 of 3 done; b.png: …") ends the run, with exit code 1 when anything failed.
import type { ErrorCode } from "../shared/protocol";
import { UserError } from "./errors";

export type BatchItem = { input: string; outputs: string[] };

/** Errors every further input would hit too: the batch stops instead of repeating them. */
const STOPS_BATCH = new Set<ErrorCode>(["weights-missing", "device-unavailable"]);

export async function runBatch(
  command: string,
  items: BatchItem[],
  each: (item: BatchItem) => Promise<void>,
  quiet: boolean,
): Promise<void> {
  // with --json (quiet), a line for every input, a failed one's too: a script can tell which failed, and why
  const failed = (input: string, err: UserError, message = err.message) => {
    if (quiet) process.stdout.write(`${JSON.stringify({ input, error: message, code: err.code })}\n`);
  };
  if (items.length === 1) {
    // one input: errors end the command, as always
    try {
      return await each(items[0]);
    } catch (err) {
      if (err instanceof UserError) failed(items[0].input, err);
      throw err;
    }
  }
  const failures: string[] = [];
  let done = 0;
  for (const [i, item] of items.entries()) {
    if (!quiet) process.stderr.write(`${i + 1} of ${items.length} · ${item.input}\n`);
    try {
      await each(item);
      done++;
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      failures.push(`${item.input}: ${err.message.replace(/\.$/, "")}`);
      process.stderr.write(`${command}: ${item.input}: ${err.message}\n`);
      failed(item.input, err);
      if (STOPS_BATCH.has(err.code)) {
        for (const rest of items.slice(i + 1)) failed(rest.input, err, `Not started: ${err.message}`);
        break;
      }
    }
  }
  if (failures.length === 0) return;
  const rest = done + failures.length < items.length ? " The rest were not started." : "";
  process.stderr.write(`${command}: ${done} of ${items.length} done; ${failures.join("; ")}.${rest}\n`);
  process.exitCode = 1;
}
