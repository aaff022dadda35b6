import type { Command } from "commander";

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("measure the engines on this machine")
    .action(() => {
      throw new Error("stylize bench is not built yet");
    });
}
