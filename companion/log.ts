// One logger for the companion: pino to stderr (stdout stays for the banner and command output).
// Quiet by default: a designer only sees warnings; `--verbose` shows what the server is doing.
import pino, { type Logger } from "pino";

export type { Logger };
export type LogLevel = "silent" | "fatal" | "error" | "warn" | "info" | "debug" | "trace";

export function createLogger(level: LogLevel = "warn"): Logger {
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests, embedding). */
export const silentLogger: Logger = pino({ level: "silent" });
