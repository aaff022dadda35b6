// `--queue` URLs → ioredis options: every standard form, passwords from the URL, the environment or
// a file (never in what is shown or thrown), TLS trust, and bad input refused in plain words.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { describe, expect, it } from "vitest";
import { passwordOf, queueTarget, withoutPassword } from "../../companion/cluster/queue-url";
import { tempDir } from "../server/helpers";

const PW = "pa:ss@w/rd";
const ENC = encodeURIComponent(PW);
const none = { env: {} };

describe("queueTarget", () => {
  it("reads host, port, user, password, database and TLS from the standard forms", () => {
    expect(queueTarget("redis://10.0.0.5", none).redis).toEqual({ host: "10.0.0.5", port: 6379, connectTimeout: 5000 });
    expect(queueTarget("redis://[::1]:7000/2", none).redis).toMatchObject({ host: "::1", port: 7000, db: 2 });
    const t = queueTarget(`rediss://stylize:${ENC}@redis.studio.lan:6380/1`, none);
    expect(t.redis).toMatchObject({ host: "redis.studio.lan", port: 6380, db: 1, username: "stylize", password: PW });
    expect(t.redis.tls).toEqual({ servername: "redis.studio.lan" }); // Node's CAs + NODE_EXTRA_CA_CERTS
    expect(t.shown).toBe("rediss://stylize@redis.studio.lan:6380/1");
    expect(queueTarget("rediss://127.0.0.1:6380", none).redis.tls).toEqual({}); // no SNI for an address
    expect(queueTarget(`redis://:${ENC}@h`, none)).toMatchObject({ shown: "redis://h", redis: { password: PW } });
  });

  it("takes the password from STYLIZE_QUEUE_PASSWORD or a file, and refuses two sources", () => {
    const env = { STYLIZE_QUEUE_PASSWORD: PW };
    expect(queueTarget("redis://stylize@h", { env }).redis).toMatchObject({ username: "stylize", password: PW });
    const file = join(tempDir(), "pw");
    writeFileSync(file, `${PW}\n`);
    expect(queueTarget("redis://h", { env: { STYLIZE_QUEUE_PASSWORD_FILE: file } }).redis.password).toBe(PW);
    expect(() => queueTarget(`redis://u:${ENC}@h`, { env })).toThrow(
      "the queue's password is given twice (the --queue URL and STYLIZE_QUEUE_PASSWORD): keep one",
    );
    expect(() => queueTarget("redis://h", { env: { STYLIZE_QUEUE_PASSWORD_FILE: "/nonexistent/pw" } })).toThrow(
      "cannot read STYLIZE_QUEUE_PASSWORD_FILE /nonexistent/pw: ENOENT",
    );
  });

  it("refuses what is not a Redis URL, and never repeats the password while saying so", () => {
    const cases: [string, RegExp][] = [
      ["localhost:6379", /--queue must look like redis:\/\/\[user\[:password\]@\]host/],
      [`http://u:${ENC}@h:6379`, /--queue must look like .* \(got "http:\/\/u@h:6379"\)/],
      [`redis://u:${ENC}@h/abc`, /database after the host must be a whole number like \/0 \(got "\/abc"\)/],
      [`rediss://u:${ENC}@h?tls=false`, /takes no \?options .*\(got "rediss:\/\/u@h\?tls=false"\)/],
    ];
    for (const [url, message] of cases) {
      let text = "";
      try {
        queueTarget(url, none);
      } catch (err) {
        text = (err as Error).message;
      }
      expect(text).toMatch(message);
      expect(text).not.toContain(ENC);
      expect(text).not.toContain(PW);
    }
    expect(() => queueTarget("redis://h", { ...none, caFile: "ca.pem" })).toThrow("--queue-ca is for rediss://");
  });

  it("--queue-ca adds a CA to Node's own list; a file that is no certificate is refused", () => {
    const dir = tempDir();
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    writeFileSync(join(dir, "ca.pem"), pem);
    writeFileSync(join(dir, "key.pem"), "-----BEGIN PRIVATE KEY-----\n");
    const { ca } = queueTarget("rediss://h", { ...none, caFile: join(dir, "ca.pem") }).redis.tls!;
    expect(ca).toEqual([...rootCertificates, pem]);
    expect(() => queueTarget("rediss://h", { ...none, caFile: join(dir, "key.pem") })).toThrow(
      /--queue-ca .*key\.pem is not a PEM certificate/,
    );
  });

  it("hides the password in any text, plain or URL-encoded", () => {
    const t = queueTarget(`redis://u:${ENC}@h`, none);
    expect(t.hide(`AUTH u ${PW} failed for redis://u:${ENC}@h`)).toBe("AUTH u *** failed for redis://u:***@h");
    expect(withoutPassword(`rediss://u:${ENC}@h:1/0`)).toBe("rediss://u@h:1/0");
    expect(passwordOf(`rediss://u:${ENC}@h`)).toBe(PW);
    expect(passwordOf("rediss://u@h")).toBeUndefined();
  });
});
