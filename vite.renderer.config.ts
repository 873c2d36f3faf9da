import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig, type Plugin, type ProxyOptions } from 'vite';

/**
 * The admin UI on its own: `npm run build:renderer` writes dist/renderer, which `allsource serve`
 * serves at `/`. The headless path never needs Electron. electron.vite.config.ts reuses these pieces.
 */

export const rendererRoot = fileURLToPath(new URL('./src/renderer', import.meta.url));

/**
 * The built page allows only its own origin: no inline script, no inline style, no remote fonts.
 * Added at build time only, because Vite's dev server injects <style> tags for hot reload.
 * A CSP header from the server, when it sends one, applies on top of this.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export function contentSecurityPolicy(policy: string = RENDERER_CSP): Plugin {
  return {
    name: 'allsource:content-security-policy',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [
        { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: policy }, injectTo: 'head-prepend' },
      ],
    },
  };
}

/** `vite dev` serves the page; the API is the real server's (ALLSOURCE_PORT, default 8080). */
export function apiProxy(env: NodeJS.ProcessEnv = process.env): Record<string, ProxyOptions> {
  const target = `http://127.0.0.1:${env['ALLSOURCE_PORT'] || 8080}`;
  return {
    '/health': { target, changeOrigin: true },
    '/metrics': { target, changeOrigin: true },
    '/api': { target, changeOrigin: true, ws: true },
  };
}

export default defineConfig({
  root: rendererRoot,
  // Relative asset URLs: the same build works from the server at `/` and from a file. Client-side
  // routing, when it comes, should use hash history so that deep links still find ./assets.
  base: './',
  plugins: [vue(), contentSecurityPolicy()],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
  },
  server: { proxy: apiProxy() },
});
