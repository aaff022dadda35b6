// Figma sandbox entry (bundled to dist/code.js). No DOM or network here: the UI iframe does that.
import { startPlugin } from "./controller";

startPlugin();
