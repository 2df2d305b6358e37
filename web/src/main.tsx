// Entry of the browser lab: starts the training worker and mounts the page; any failure is said on the page.
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './ui/app.js';

/** ?backend=ts in the page URL runs the plain TypeScript kernels instead of WebAssembly. */
function backendFromQuery(): 'wasm' | 'ts' | undefined {
  const b = new URLSearchParams(location.search).get('backend');
  return b === 'ts' || b === 'wasm' ? b : undefined;
}

/** The last resort: if the page itself cannot render, say why in plain HTML rather than leave it blank. */
function showFatal(root: HTMLElement, message: string): void {
  const box = document.createElement('div');
  box.className = 'banner errors fatal';
  box.setAttribute('role', 'alert');
  box.dataset.testid = 'error';
  box.textContent = `bnlab could not start: ${message}`;
  root.replaceChildren(box);
}

const root = document.getElementById('app')!;
let worker: Worker | null = null;
let workerError: string | undefined;
try {
  worker = new Worker(new URL('./worker/index.ts', import.meta.url), { type: 'module' });
} catch (e) {
  const why = e instanceof Error ? e.message : String(e);
  workerError = `The training worker could not be started (${why}). Serve the page over http(s), e.g. with npm run web.`;
}

try {
  // Preact 11 renders next to what the element holds: the 'Loading' line goes first.
  root.replaceChildren();
  render(<App worker={worker} workerError={workerError} backend={backendFromQuery()} />, root);
} catch (e) {
  showFatal(root, e instanceof Error ? e.message : String(e));
}
