import { versionArgument } from '../preload/api.js';

/**
 * The main window's options, as plain data so a test can pin them. Structurally a subset of
 * Electron's BrowserWindowConstructorOptions (index.ts passes it straight to `new BrowserWindow`).
 */
export interface MainWindowOptions {
  readonly width: number;
  readonly height: number;
  readonly minWidth: number;
  readonly minHeight: number;
  readonly show: boolean;
  readonly title: string;
  readonly icon?: string;
  readonly autoHideMenuBar: boolean;
  readonly webPreferences: {
    readonly preload: string;
    readonly contextIsolation: true;
    readonly sandbox: true;
    readonly nodeIntegration: false;
    readonly nodeIntegrationInWorker: false;
    readonly nodeIntegrationInSubFrames: false;
    readonly webSecurity: true;
    readonly allowRunningInsecureContent: false;
    readonly webviewTag: false;
    readonly navigateOnDragDrop: false;
    readonly spellcheck: false;
    readonly additionalArguments: string[];
  };
}

export interface MainWindowInput {
  /** Absolute path of the built preload script. */
  preload: string;
  /** The app's version, handed to the preload through argv. */
  version: string;
  /** Window icon; Linux uses it, macOS and Windows take the bundle's. */
  icon?: string;
}

/**
 * The renderer is a web page: isolated from Node, sandboxed, with only the preload's bridge.
 * The window stays hidden until its first paint ('ready-to-show').
 */
export function mainWindowOptions({ preload, version, icon }: MainWindowInput): MainWindowOptions {
  return {
    width: 1100,
    height: 760,
    minWidth: 640,
    minHeight: 480,
    show: false,
    title: 'AllSource',
    ...(icon === undefined ? {} : { icon }),
    autoHideMenuBar: true,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      additionalArguments: [versionArgument(version)],
    },
  };
}
