// UI iframe entry (bundled into dist/ui.html).
import { render } from "preact";
import { App } from "./app";
import "./styles.css";

render(<App />, document.getElementById("root") as HTMLElement);
