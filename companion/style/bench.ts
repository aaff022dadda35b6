import type { Command } from "commander";

export function registerStyleBench(bench: Command): void {
  bench
    .command("style")
    .description("style engine: ms per optimisation step per device")
    .action(() => {
      throw new Error("stylize bench style is not built yet");
    });
}
