import { defineConfig } from 'vite';

// Preact's JSX through Vite's own transform: no Babel, no plugin to keep up with.
export default defineConfig({
  root: import.meta.dirname,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
});
