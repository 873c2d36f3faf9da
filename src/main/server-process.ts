/**
 * Entry point of the utility process that runs the event store (see index.ts). Keeping SQLite's
 * synchronous work here means the main process never blocks while drawing windows.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostServer, type ParentPortLike } from './server-host.js';

const port = Reflect.get(process, 'parentPort') as ParentPortLike | undefined;
if (!port) {
  process.stderr.write('server-process: this file runs inside an Electron utility process\n');
  process.exit(1);
}

// electron-vite writes the renderer next to this file's directory: out/main/ → out/renderer/.
const builtUi = fileURLToPath(new URL('../renderer/', import.meta.url));

void hostServer({
  port,
  exit: (code) => process.exit(code),
  onSignal: (listener) => {
    process.once('SIGTERM', listener);
    process.once('SIGINT', listener);
  },
  async start() {
    // Imported here, not at the top, so that a server that cannot even load (a native module built
    // for another Node ABI, say) still reaches the parent as an 'error' message with its reason.
    const { createApp, loadConfig } = await import('../server/index.js');
    // flags > env > config file > defaults, as for `allsource serve`: 127.0.0.1:8080 unless configured.
    const config = loadConfig(existsSync(`${builtUi}index.html`) ? { defaultUiDir: builtUi } : {});
    const app = createApp(config);
    try {
      const { url } = await app.listen();
      return { url, close: () => app.close() };
    } catch (error) {
      await app.close();
      throw error;
    }
  },
});
