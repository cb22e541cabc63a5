// Builds the single-page dashboard into dist/ (served by apps/api at `/`). Bundles go under /assets/ with
// content hashes, which the server caches as immutable.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', chunkSizeWarningLimit: 1500 },
});
