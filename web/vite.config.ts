// Vite config of the browser lab: root web/, a relative base so the static build runs from any folder, ES workers.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { digitsAsset } from './build/digits.js';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: webRoot,
  // './': every URL in the build is relative, so web/dist works from a subfolder, a plain file server or offline.
  base: './',
  publicDir: false,
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  plugins: [digitsAsset()],
  // Workers are bundled by a separate Rollup pass that does not see `plugins`: the digits module is needed there.
  worker: { format: 'es', plugins: () => [digitsAsset()] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  // The page imports the engine from ../src: the dev server must be allowed to serve it.
  server: { fs: { allow: [repoRoot] } },
});
