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
  if (items.length === 1) return each(items[0]); // one input: errors end the command, as always
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
      // with --json, a line for every input: a script can tell which failed, and why
      if (quiet) process.stdout.write(`${JSON.stringify({ input: item.input, error: err.message, code: err.code })}\n`);
      if (STOPS_BATCH.has(err.code)) break;
    }
  }
  if (failures.length === 0) return;
  const rest = done + failures.length < items.length ? " The rest were not started." : "";
  process.stderr.write(`${command}: ${done} of ${items.length} done; ${failures.join("; ")}.${rest}\n`);
  process.exitCode = 1;
}
