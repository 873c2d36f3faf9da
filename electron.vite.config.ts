import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import { apiProxy, contentSecurityPolicy, rendererRoot } from './vite.renderer.config.js';

/**
 * The desktop build (`npm run build:desktop`), written to out/. It needs the electron package
 * (electron-vite reads its version to pick targets) but not Electron's binary.
 */
const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        input: {
          index: src('main/index.ts'),
          'server-process': src('main/server-process.ts'),
        },
        output: {
          // Chunks sit beside the entries, at the same depth as src/server/*.ts: the server finds
          // package.json at '../../' from its own module URL.
          chunkFileNames: '[name].js',
          // The server gets a chunk of its own, loaded only when the utility process starts it.
          codeSplitting: {
            groups: [{ name: 'server', test: /[\\/]src[\\/]server[\\/]/ }],
          },
        },
      },
    },
  },
  preload: {
    build: {
      rolldownOptions: {
        input: { index: src('preload/index.ts') },
        // A sandboxed preload cannot be an ES module.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: rendererRoot,
    plugins: [vue(), contentSecurityPolicy()],
    build: {
      rolldownOptions: { input: src('renderer/index.html') },
    },
    server: { proxy: apiProxy() },
  },
});
