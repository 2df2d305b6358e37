// Draws a Vega-Lite spec into an element with vega-embed, offline: no actions menu, no loader that can reach the network.
import type { Result, VisualizationSpec } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';

/**
 * A Vega loader that refuses everything, as the reports' renderer does: every figure carries its data
 * inline, so a load attempt is a bug, and the page must work offline and never phone home.
 */
const offline = (what: string) => () => Promise.reject(new Error(`bnlab lab page: Vega tried to ${what} (figures render offline)`));
const offlineLoader = {
  load: offline('load an external resource'), sanitize: offline('resolve an external URL'),
  http: offline('fetch over HTTP'), file: offline('read a file'),
};

/**
 * Renders `spec` into `el` as SVG and returns a function that frees the view. `actions: false` hides the
 * menu whose "Open in Vega Editor" would send the data to vega.github.io.
 */
export async function drawSpec(el: HTMLElement, spec: TopLevelSpec): Promise<() => void> {
  // Loaded on first use: Vega is most of a megabyte, and the lab itself never needs it.
  const { default: embed } = await import('vega-embed');
  const result: Result = await embed(el, spec as VisualizationSpec, {
    mode: 'vega-lite',
    renderer: 'svg',
    actions: false,
    loader: offlineLoader as never,
    // The default style is the actions menu's CSS, and there is no menu.
    defaultStyle: false,
  });
  return () => result.finalize();
}
