import { describe, expect, it } from "vitest";
import { formatLine } from "../../companion/log";

describe("readable log lines", () => {
  it("puts time, level and message first, then fields and the error message", () => {
    const time = new Date(2026, 0, 2, 13, 4, 5).getTime();
    const line = JSON.stringify({ level: 40, time, msg: "refusing client", client: "c3", n: 2, err: { message: "x" } });
    expect(formatLine(line)).toBe("13:04:05 WARN refusing client client=c3 n=2 error=x\n");
  });
});
