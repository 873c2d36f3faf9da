import { parseControlMessage, type ServerMessage } from './server-messages.js';

/**
 * The server's side of the utility process: start, report, stop on request. Pure orchestration:
 * server-process.ts supplies the real server and Electron's parentPort; tests supply fakes.
 */

/** Electron's `process.parentPort`, as far as this file uses it. */
export interface ParentPortLike {
  postMessage(message: ServerMessage): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
}

export interface RunningServer {
  url: string;
  /** Finishes requests in flight, commits what is queued and closes the database. */
  close(): Promise<void>;
}

export interface HostOptions {
  port: ParentPortLike;
  start: () => Promise<RunningServer>;
  exit: (code: number) => void;
  /** Registers a listener for termination signals (UtilityProcess.kill() sends SIGTERM on POSIX). */
  onSignal?: (listener: () => void) => void;
}

/** Starts the server and serves the main process's requests until it is told to stop. */
export async function hostServer({ port, start, exit, onSignal }: HostOptions): Promise<void> {
  let server: RunningServer | undefined;
  let stopRequested = false;
  let closing: Promise<void> | undefined;

  const stop = () => {
    stopRequested = true;
    if (!server || closing) return;
    const running = server;
    closing = running.close().then(
      () => {
        port.postMessage({ type: 'stopped' });
        exit(0);
      },
      (error: unknown) => {
        port.postMessage({ type: 'error', message: `error while stopping: ${messageOf(error)}` });
        exit(1);
      },
    );
  };

  port.on('message', (event) => {
    if (parseControlMessage(event.data)?.type === 'stop') stop();
  });
  onSignal?.(stop);

  try {
    server = await start();
  } catch (error) {
    port.postMessage({ type: 'error', message: describeStartupError(error) });
    exit(1);
    return;
  }
  if (stopRequested) {
    stop();
    return;
  }
  port.postMessage({ type: 'ready', url: server.url });
}

/**
 * One line for the person who will read it in a dialog. The server's own errors carry a
 * snake_case `code` and a message written for people; anything else is unexpected.
 */
export function describeStartupError(error: unknown): string {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^[a-z][a-z0-9_]*$/.test(code)) return messageOf(error);
  return `could not start: ${messageOf(error)}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
