/**
 * Electron main process, kept thin: single-instance lock, the server in a utility process,
 * one hardened window on the server's URL, and a clean stop on quit. Decisions live in the
 * small pure modules beside this file, which plain Node tests.
 */
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, session, shell, utilityProcess, type WebContents } from 'electron';
import { superviseServer, type ServerSupervisor } from './server-supervisor.js';
import { navigationDecision, pageUrl } from './urls.js';
import { mainWindowOptions } from './window-options.js';

const fromHere = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

let server: ServerSupervisor | undefined;
let mainWindow: BrowserWindow | undefined;
/** The origin the window may show; everything else opens in the browser or is refused. */
let appOrigin: string | undefined;
let quitting = false;
let serverStopped = false;

function hardenContents(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (navigationDecision(url, appOrigin) === 'open-external') void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    const decision = navigationDecision(event.url, appOrigin);
    if (decision === 'allow') return;
    event.preventDefault();
    if (decision === 'open-external') void shell.openExternal(event.url);
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function openWindow(url: string): void {
  if (mainWindow && !mainWindow.isDestroyed()) {
    mainWindow.focus();
    return;
  }
  appOrigin = new URL(url).origin;
  const window = new BrowserWindow(
    mainWindowOptions({
      preload: fromHere('../preload/index.cjs'),
      version: app.getVersion(),
      ...(process.platform === 'linux' ? { icon: fromHere('../../resources/icon.png') } : {}),
    }),
  );
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined;
  });
  mainWindow = window;
  void window.loadURL(url);
}

async function start(): Promise<void> {
  // The admin page needs no camera, notifications or the like.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const child = utilityProcess.fork(fromHere('./server-process.js'), [], {
    serviceName: 'AllSource server',
    stdio: 'inherit',
  });
  const supervisor = superviseServer(child);
  server = supervisor;
  supervisor.onUnexpectedExit((code) => {
    if (quitting) return;
    dialog.showErrorBox('AllSource stopped', `The event store stopped unexpectedly (exit code ${code}).`);
    app.quit();
  });

  let serverUrl: string;
  try {
    serverUrl = await supervisor.ready;
  } catch (error) {
    if (!quitting) dialog.showErrorBox('AllSource could not start', (error as Error).message);
    app.quit();
    return;
  }
  const url = pageUrl({
    serverUrl,
    devRendererUrl: process.env['ELECTRON_RENDERER_URL'],
    packaged: app.isPackaged,
  });
  openWindow(url);
  app.on('activate', () => openWindow(url));
}

function main(): void {
  if (!app.requestSingleInstanceLock()) {
    // Another instance owns the database and the port; it gets focused instead (second-instance).
    app.quit();
    return;
  }
  app.enableSandbox();

  app.on('second-instance', () => {
    if (!mainWindow || mainWindow.isDestroyed()) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
  app.on('window-all-closed', () => app.quit());

  // Quit waits for the server to finish requests in flight and close the database.
  app.on('before-quit', (event) => {
    quitting = true;
    if (!server || serverStopped) return;
    event.preventDefault();
    void server.stop().finally(() => {
      serverStopped = true;
      app.quit();
    });
  });

  app.whenReady().then(start, (error: unknown) => {
    dialog.showErrorBox('AllSource could not start', (error as Error).message);
    app.quit();
  });
}

main();
