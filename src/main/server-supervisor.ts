import { parseServerMessage, type ControlMessage } from './server-messages.js';

/**
 * The parts of Electron's UtilityProcess the supervisor uses; Electron's object satisfies it,
 * and tests pass a fake.
 */
export interface ServerChild {
  postMessage(message: ControlMessage): void;
  kill(): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

/** The server did not come up; the message is for a person. */
export class ServerStartError extends Error {
  override readonly name = 'ServerStartError';
}

export interface SupervisorOptions {
  /** How long the server may take to open its file and listen. */
  startTimeoutMs?: number;
  /** How long `stop()` waits for a clean exit before killing the process. */
  stopTimeoutMs?: number;
}

export interface ServerSupervisor {
  /** The server's URL once it listens. Rejects with ServerStartError. */
  readonly ready: Promise<string>;
  /**
   * Asks the server to finish its requests and close the database, and resolves once the process
   * has exited; kills it if it takes longer than `stopTimeoutMs`. Safe to call more than once.
   */
  stop(): Promise<void>;
  /** Called when the process exits after `ready` without having been asked to stop. */
  onUnexpectedExit(listener: (code: number) => void): void;
}

// The server drains requests in flight for up to 10 s on close; allow that and the final checkpoint.
const DEFAULT_STOP_TIMEOUT_MS = 15_000;
const DEFAULT_START_TIMEOUT_MS = 30_000;

/** Watches the server's utility process from the main process. */
export function superviseServer(child: ServerChild, options: SupervisorOptions = {}): ServerSupervisor {
  const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  let state: 'starting' | 'running' | 'stopping' | 'exited' = 'starting';
  let stopping: Promise<void> | undefined;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const unexpectedExitListeners: ((code: number) => void)[] = [];
  let resolveExited!: () => void;
  const exited = new Promise<void>((resolve) => (resolveExited = resolve));

  let settleReady!: { resolve: (url: string) => void; reject: (error: Error) => void };
  const ready = new Promise<string>((resolve, reject) => (settleReady = { resolve, reject }));
  // Marks the promise handled: a caller who quits before start-up ends must not get an unhandled rejection.
  ready.catch(() => undefined);

  const failStart = (message: string) => {
    clearTimeout(startTimer);
    settleReady.reject(new ServerStartError(message));
  };
  const startTimer = setTimeout(() => {
    if (state !== 'starting') return;
    failStart(`the server did not start within ${Math.round(startTimeoutMs / 1000)} s`);
    void stop();
  }, startTimeoutMs);

  child.on('message', (data) => {
    const message = parseServerMessage(data);
    if (!message) return;
    if (message.type === 'ready' && state === 'starting') {
      clearTimeout(startTimer);
      state = 'running';
      settleReady.resolve(message.url);
    } else if (message.type === 'error' && state === 'starting') {
      failStart(message.message);
    }
  });

  child.on('exit', (code) => {
    const previous = state;
    state = 'exited';
    clearTimeout(killTimer);
    if (previous === 'starting') failStart(`the server stopped before it was ready (exit code ${code})`);
    if (previous === 'running') for (const listener of unexpectedExitListeners) listener(code);
    resolveExited();
  });

  function stop(): Promise<void> {
    if (stopping) return stopping;
    if (state === 'exited') return (stopping = Promise.resolve());
    if (state === 'starting') failStart('the server was asked to stop before it was ready');
    state = 'stopping';
    try {
      child.postMessage({ type: 'stop' });
    } catch {
      // The process is already going away; 'exit' will follow.
    }
    killTimer = setTimeout(() => child.kill(), stopTimeoutMs);
    stopping = exited;
    return stopping;
  }

  return {
    ready,
    stop,
    onUnexpectedExit(listener) {
      unexpectedExitListeners.push(listener);
    },
  };
}
