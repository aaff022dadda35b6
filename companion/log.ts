// One logger for the companion: pino to stderr (stdout stays for the banner and command output).
// Quiet by default: a designer only sees warnings; `--verbose` shows what the server is doing.
// Lines are short and readable ("12:00:01 WARN refusing client reason=…"); STYLIZE_LOG_JSON=1
// keeps pino's JSON lines for log tooling.
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };
export const LOG_LEVELS = ["silent", "fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

/** One JSON log line from pino → "HH:MM:SS LEVEL msg key=value …". */
export function formatLine(line: string): string {
  const { level, time, msg, err, ...rest } = JSON.parse(line) as Record<string, unknown>;
  const when = new Date(Number(time)).toTimeString().slice(0, 8);
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  const error = err && typeof err === "object" ? [`error=${(err as { message?: string }).message}`] : [];
  return [when, LEVELS[Number(level)] ?? level, msg ?? "", ...fields, ...error].join(" ") + "\n";
}

const readable: DestinationStream = { write: (line: string) => void process.stderr.write(formatLine(line)) };

export function createLogger(level: LogLevel = "warn"): Logger {
  const json = process.env.STYLIZE_LOG_JSON === "1";
  return pino({ level, base: undefined }, json ? pino.destination({ fd: 2, sync: true }) : readable);
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = pino({ level: "silent" });
