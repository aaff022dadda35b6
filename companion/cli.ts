// The `stylize` command line. Each subcommand lives beside the code it drives.
import { Command } from "commander";
import { VERSION } from "./version";
import { registerServe } from "./server/command";
import { registerPrimitives } from "./primitives/command";
import { registerStyle } from "./style/command";
import { registerWeights } from "./style/weights-command";
import { registerDevices } from "./style/devices-command";
import { registerBench } from "./bench";
import { registerWorker } from "./cluster/command";

const program = new Command()
  .name("stylize")
  .description("Stylize companion: neural style transfer and primitive-shape art for the Figma plugin")
  .version(VERSION)
  .showHelpAfterError();

registerServe(program);
registerPrimitives(program);
registerStyle(program);
registerWeights(program);
registerDevices(program);
registerBench(program);
registerWorker(program);

await program.parseAsync(process.argv);
