import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { describeStartupError, hostServer, type ParentPortLike, type RunningServer } from './server-host.js';
import type { ServerMessage } from './server-messages.js';

/** Stands in for Electron's process.parentPort. */
class FakePort extends EventEmitter implements ParentPortLike {
  posted: ServerMessage[] = [];
  postMessage(message: ServerMessage): void {
    this.posted.push(message);
  }
  receive(data: unknown): void {
    this.emit('message', { data });
  }
}

class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function fakeServer(url = 'http://127.0.0.1:8080'): RunningServer & { close: ReturnType<typeof vi.fn> } {
  return { url, close: vi.fn(() => Promise.resolve()) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('hostServer', () => {
  it('reports ready with the URL, then stops on request', async () => {
    const port = new FakePort();
    const server = fakeServer();
    const exit = vi.fn();
    await hostServer({ port, start: async () => server, exit });
    expect(port.posted).toEqual([{ type: 'ready', url: 'http://127.0.0.1:8080' }]);
    expect(server.close).not.toHaveBeenCalled();

    port.receive({ type: 'stop' });
    port.receive({ type: 'stop' });
    await flush();
    expect(server.close).toHaveBeenCalledTimes(1);
    expect(port.posted.at(-1)).toEqual({ type: 'stopped' });
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('ignores messages that are not a stop', async () => {
    const port = new FakePort();
    const server = fakeServer();
    await hostServer({ port, start: async () => server, exit: vi.fn() });
    port.receive('stop');
    port.receive({ type: 'shutdown' });
    await flush();
    expect(server.close).not.toHaveBeenCalled();
  });

  it('reports a start failure in words and exits 1', async () => {
    const port = new FakePort();
    const exit = vi.fn();
    await hostServer({
      port,
      start: () => Promise.reject(new CodedError('startup_failed', 'port 8080 on 127.0.0.1 is already in use')),
      exit,
    });
    expect(port.posted).toEqual([{ type: 'error', message: 'port 8080 on 127.0.0.1 is already in use' }]);
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('closes at once when a stop arrived during start-up', async () => {
    const port = new FakePort();
    const server = fakeServer();
    const exit = vi.fn();
    let finishStart!: () => void;
    const hosting = hostServer({
      port,
      start: () => new Promise((resolve) => (finishStart = () => resolve(server))),
      exit,
    });
    port.receive({ type: 'stop' });
    finishStart();
    await hosting;
    await flush();
    expect(port.posted).toEqual([{ type: 'stopped' }]);
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('stops on a termination signal too', async () => {
    const port = new FakePort();
    const server = fakeServer();
    let signal!: () => void;
    const exit = vi.fn();
    await hostServer({ port, start: async () => server, exit, onSignal: (listener) => (signal = listener) });
    signal();
    await flush();
    expect(server.close).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(0);
  });

  it('reports a failure to close and exits 1', async () => {
    const port = new FakePort();
    const exit = vi.fn();
    const server = { url: 'http://127.0.0.1:8080', close: () => Promise.reject(new Error('disk full')) };
    await hostServer({ port, start: async () => server, exit });
    port.receive({ type: 'stop' });
    await flush();
    expect(port.posted.at(-1)).toEqual({ type: 'error', message: 'error while stopping: disk full' });
    expect(exit).toHaveBeenCalledWith(1);
  });
});

describe('describeStartupError', () => {
  it('passes the server own messages through', () => {
    expect(describeStartupError(new CodedError('config_invalid', '--port is invalid'))).toBe('--port is invalid');
  });

  it('marks anything else as unexpected', () => {
    expect(describeStartupError(new CodedError('ENOENT', 'no such file'))).toBe('could not start: no such file');
    expect(describeStartupError(new Error('boom'))).toBe('could not start: boom');
    expect(describeStartupError('text')).toBe('could not start: text');
  });
});
