import type { Command } from "commander";
import { listDevices, pickDevice } from "./devices";

export function registerDevices(program: Command): void {
  program
    .command("devices")
    .description("list the compute devices the style engine can use here, and what --device auto picks")
    .option("--json", "print one JSON object on stdout")
    .action(async (opts: { json?: boolean }) => {
      const devices = await listDevices();
      const auto = await pickDevice("auto");
      if (opts.json) {
        console.log(JSON.stringify({ devices, auto: auto.device, notes: auto.notes }));
        return;
      }
      for (const d of devices) {
        const adapter = d.adapter ? ` ${d.adapter}${d.software ? " (software: a CPU driver, not a GPU)" : ""}` : "";
        console.log(`${d.available ? "✓" : "✗"} ${d.name.padEnd(7)}${adapter}${d.reason ? ` ${d.reason}` : ""}`);
      }
      console.log(`--device auto uses: ${auto.device}${auto.notes.length ? ` (${auto.notes.join("; ")})` : ""}`);
    });
}
