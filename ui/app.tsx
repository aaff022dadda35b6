// The plugin window: wires the plugin bridge, the companion connection and the run together.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { LayerInfo, Selection, Settings } from "../shared/plugin-messages";
import { onPluginMessage, postToPlugin } from "./bridge";
import { DEFAULT_COMPANION_URL } from "../shared/protocol";
import { CompanionClient, type ConnectionState, listenForPolicyBlocks } from "./companion";
import { ConnectionBar } from "./components/connection";
import { Advanced, ModeTabs, PresetPicker } from "./components/options";
import { PrimitivesControls } from "./components/primitives-controls";
import { RunPanel } from "./components/run-panel";
import { ShapesAction } from "./components/shapes-options";
import { StyleSources } from "./components/style-sources";
import { Text } from "./components/text";
import { LocalPrimitives } from "./local-primitives";
import { figmaHost } from "./host";
import { styleNeedsCompanionText } from "./messages";
import { applyPreset } from "./presets";
import { type RunState, Runner, type StyleFile } from "./runner";

export function App() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [conn, setConn] = useState<ConnectionState>({ state: "connecting", attempt: 0 });
  const [run, setRun] = useState<RunState | null>(null);
  const [files, setFiles] = useState<StyleFile[]>([]);
  const [layers, setLayers] = useState<LayerInfo[]>([]);
  const [mask, setMask] = useState<LayerInfo | null>(null);
  const [focus, setFocus] = useState<LayerInfo | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const client = useRef<CompanionClient | null>(null);
  const latest = useRef<Settings | null>(null);
  const host = useMemo(() => figmaHost(), []);
  const runner = useMemo(() => {
    // Primitives run inside the plugin when no companion is connected; style always needs it.
    const local = new LocalPrimitives((msg) => runner.onMessage(msg));
    const runner = new Runner((kind) => {
      if (kind === "primitives" && !client.current?.connected) return local;
      if (!client.current) throw new Error("The companion connection is not set up yet.");
      return client.current;
    }, setRun);
    return runner;
  }, []);

  useEffect(() => {
    const off = onPluginMessage((m) => {
      switch (m.type) {
        case "init": {
          const s = m.relaunch
            ? { ...m.relaunch, token: m.settings.token, companionUrl: m.settings.companionUrl }
            : m.settings;
          setSettings(s);
          if (m.relaunchSourceGone)
            setNotice(
              "The layer this result was made from is gone (deleted, or in another file). Its settings are loaded: select a layer to run them on.",
            );
          else if (m.relaunch) setNotice("Loaded the settings of the selected result — press Stylize to run again.");
          client.current?.stop();
          client.current = new CompanionClient(s.companionUrl, s.token, {
            onState: setConn,
            onMessage: (msg) => runner.onMessage(msg),
            onFrame: (h, p) => runner.onFrame(h, p),
            onDisconnect: () => runner.onDisconnect(),
          });
          client.current.start();
          return;
        }
        case "selection":
          setSelection(m.selection);
          return;
        case "picked-layer":
          setNotice(null);
          if (m.role === "mask") setMask(m.layer);
          else if (m.role === "focus") setFocus(m.layer);
          else setLayers((ls) => (ls.some((l) => l.id === m.layer.id) ? ls : [...ls, m.layer]));
          return;
        case "plugin-error":
          if (!m.requestId) setNotice(m.message);
          return;
      }
    });
    // Figma's network policy blocks any address manifest.json doesn't allow: tell that apart from "not running".
    const offPolicy = listenForPolicyBlocks(document, (url) => client.current?.policyBlocked(url));
    postToPlugin({ type: "ui-ready" });
    return () => {
      off();
      offPolicy();
      client.current?.stop();
    };
  }, [runner]);

  // the settings as last set, for updates that arrive after an await
  latest.current = settings;
  if (!settings) return <p class="loading">Loading…</p>;

  const update = (next: Settings | ((now: Settings) => Settings)) => {
    const s = typeof next === "function" ? next(latest.current ?? settings) : next;
    latest.current = s;
    setSettings(s);
    postToPlugin({ type: "save-settings", settings: s });
  };
  const styleCount = files.length + layers.length;
  /** Stylize (or make primitives); `asShapes`: paint, then rebuild the painting from shapes. */
  const start = (asShapes: boolean) => {
    setNotice(null);
    const batch = selection?.ok ? selection.layers : [];
    void runner.run({ settings, styleFiles: files, styleLayers: layers, mask, focus, layers: batch, asShapes });
  };
  const count = selection?.ok ? selection.layers.length : 0;
  // a finished run of the other mode is yesterday's news; a running one stays visible
  const showRun = run && (run.mode === settings.mode || runner.busy);
  const inPlugin = conn.state !== "connected" && settings.mode === "primitives";
  const blocker =
    conn.state !== "connected" && settings.mode === "style"
      ? styleNeedsCompanionText(host)
      : !selection?.ok
        ? (selection?.hint ?? "Select one layer.")
        : settings.mode === "style" && styleCount === 0
          ? "Add a style image first."
          : null;

  return (
    <main>
      <ConnectionBar
        state={conn}
        token={settings.token}
        host={host}
        address={settings.companionUrl}
        needsWeights={settings.mode === "style"}
        onRetry={() => client.current?.reconnectNow()}
        onResetAddress={() => {
          update({ ...settings, companionUrl: DEFAULT_COMPANION_URL });
          client.current?.retarget(DEFAULT_COMPANION_URL, settings.token);
        }}
        onPair={(token, companionUrl) => {
          update({ ...settings, token, companionUrl });
          client.current?.retarget(companionUrl, token);
        }}
      />
      <ModeTabs mode={settings.mode} onMode={(mode) => update({ ...settings, mode })} />
      <p class="selection" data-testid="selection">
        {selection?.ok ? (
          <SelectionLine layers={selection.layers} />
        ) : (
          <span class="hint">{selection?.hint ?? "…"}</span>
        )}
      </p>
      {settings.mode === "style" && (
        <StyleSources
          files={files}
          layers={layers}
          mask={mask}
          onFiles={setFiles}
          onRemoveLayer={(id) => setLayers(layers.filter((l) => l.id !== id))}
          onPick={(role) => postToPlugin({ type: "pick-layer", role })}
          onClearMask={() => setMask(null)}
        />
      )}
      {settings.mode === "primitives" && (
        <PrimitivesControls
          settings={settings}
          focus={focus}
          onPickFocus={() => postToPlugin({ type: "pick-layer", role: "focus" })}
          onClearFocus={() => setFocus(null)}
          onChange={update}
        />
      )}
      <PresetPicker preset={settings.preset} onPreset={(p) => update(applyPreset(settings, settings.mode, p))} />
      <Advanced settings={settings} styleCount={styleCount} onChange={update} />
      {notice && (
        <p class="notice" role="alert">
          <Text>{notice}</Text>
        </p>
      )}
      <button
        type="button"
        class="primary"
        data-testid="stylize"
        disabled={!!blocker || runner.busy}
        onClick={() => start(false)}
      >
        {settings.mode === "style" ? "Stylize" : "Make primitives"}
        {count > 1 ? ` (${count} layers)` : ""}
      </button>
      {settings.mode === "style" && (
        <ShapesAction
          settings={settings}
          disabled={!!blocker || runner.busy}
          layers={count}
          onChange={update}
          onRun={() => start(true)}
        />
      )}
      {blocker && !showRun && (
        <p class="hint">
          <Text>{blocker}</Text>
        </p>
      )}
      {inPlugin && !blocker && (
        <p class="hint" data-testid="in-plugin">
          Running in Figma — faster with the companion.
        </p>
      )}
      {showRun && (
        <RunPanel
          run={run}
          onCancel={() => runner.cancel()}
          onInsertPartial={() => void runner.insertPartial()}
          onRetry={() => {
            // same inputs, current settings: the designer may have adjusted them after the failure
            if (runner.last) void runner.run({ ...runner.last, settings });
          }}
        />
      )}
    </main>
  );
}

/** The layer to run on, or for a batch how many and which (one result beside each). */
function SelectionLine({ layers }: { layers: LayerInfo[] }) {
  if (layers.length === 1) {
    const [layer] = layers;
    return (
      <>
        Layer: <strong>{layer.name}</strong>{" "}
        <span class="hint">
          {Math.round(layer.width)}×{Math.round(layer.height)}
        </span>
      </>
    );
  }
  const names = layers.map((l) => l.name);
  const shown = names.length > 3 ? `${names.slice(0, 3).join(", ")}, …` : names.join(", ");
  return (
    <>
      <strong>{layers.length} layers</strong>{" "}
      <span class="hint">({shown}) — one result beside each, same settings</span>
    </>
  );
}
