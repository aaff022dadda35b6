// UI iframe entry. (Filled in by the plugin/UI issue.)
import { render } from "preact";

function App() {
  return <p>Stylize</p>;
}

render(<App />, document.getElementById("root") as HTMLElement);
