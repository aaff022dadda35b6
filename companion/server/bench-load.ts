import type { Command } from "commander";

export function registerLoadBench(bench: Command): void {
  bench
    .command("load")
    .description("companion under concurrent clients")
    .action(() => {
      throw new Error("stylize bench load is not built yet");
    });
}
