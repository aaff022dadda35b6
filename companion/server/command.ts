import type { Command } from "commander";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the companion the Figma plugin connects to (loopback WebSocket)")
    .action(() => {
      throw new Error("stylize serve is not built yet");
    });
}
