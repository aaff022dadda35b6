// Style images (uploaded files and/or layers of the document) and the optional region mask.
import type { LayerInfo } from "../../shared/plugin-messages";
import type { StyleFile } from "../runner";

type Props = {
  files: StyleFile[];
  layers: LayerInfo[];
  mask: LayerInfo | null;
  onFiles(files: StyleFile[]): void;
  onRemoveLayer(id: string): void;
  onPick(role: "style" | "mask"): void;
  onClearMask(): void;
};

const MAX_STYLES = 8;

async function readFiles(list: FileList | null): Promise<StyleFile[]> {
  const files = [...(list ?? [])].filter((f) => /^image\/(png|jpeg|webp)$/.test(f.type));
  return Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

export function StyleSources({ files, layers, mask, onFiles, onRemoveLayer, onPick, onClearMask }: Props) {
  const count = files.length + layers.length;
  return (
    <section class="sources" aria-label="Style images">
      <h2>Style</h2>
      {count === 0 && <p class="hint">Upload a style image, or select a layer and use it as the style.</p>}
      <ul class="chips">
        {files.map((f, i) => (
          <li key={`f${i}`} class="chip">
            <span title={f.name}>{f.name}</span>
            <button
              type="button"
              class="icon"
              aria-label={`Remove ${f.name}`}
              onClick={() => onFiles(files.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </li>
        ))}
        {layers.map((l) => (
          <li key={l.id} class="chip">
            <span title={l.name}>▦ {l.name}</span>
            <button type="button" class="icon" aria-label={`Remove ${l.name}`} onClick={() => onRemoveLayer(l.id)}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <div class="row">
        <label class={count >= MAX_STYLES ? "button secondary small disabled" : "button secondary small"}>
          Upload image…
          <input
            type="file"
            accept="image/png,image/jpeg,image/webp"
            multiple
            class="visually-hidden"
            disabled={count >= MAX_STYLES}
            data-testid="style-upload"
            onChange={async (e) => {
              const input = e.currentTarget;
              const added = await readFiles(input.files);
              onFiles([...files, ...added].slice(0, MAX_STYLES - layers.length));
              input.value = "";
            }}
          />
        </label>
        <button type="button" class="secondary small" disabled={count >= MAX_STYLES} onClick={() => onPick("style")}>
          Use selected layer as style
        </button>
      </div>
      <div class="row mask">
        {mask ? (
          <>
            <span class="hint">
              Region: {count > 1 ? "the first style" : "the style"} applies only inside <strong>{mask.name}</strong>
            </span>
            <button type="button" class="link small" onClick={onClearMask}>
              Clear
            </button>
          </>
        ) : (
          <button type="button" class="link small" onClick={() => onPick("mask")}>
            Limit the style to a region (use selected layer as mask)
          </button>
        )}
      </div>
    </section>
  );
}
