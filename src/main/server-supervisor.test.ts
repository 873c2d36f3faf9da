import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ControlMessage } from './server-messages.js';
import { ServerStartError, superviseServer, type ServerChild } from './server-supervisor.js';

/** Stands in for Electron's UtilityProcess. */
class FakeChild extends EventEmitter implements ServerChild {
  sent: ControlMessage[] = [];
  killed = 0;
  postMessage(message: ControlMessage): void {
    this.sent.push(message);
  }
  kill(): boolean {
    this.killed += 1;
    return true;
  }
  send(data: unknown): void {
    this.emit('message', data);
  }
  exit(code: number): void {
    this.emit('exit', code);
  }
}

describe('superviseServer', () => {
  let child: FakeChild;

  beforeEach(() => {
    vi.useFakeTimers();
    child = new FakeChild();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves ready with the URL the server reports', async () => {
    const supervisor = superviseServer(child);
    child.send({ type: 'ready', url: 'http://127.0.0.1:8080' });
    await expect(supervisor.ready).resolves.toBe('http://127.0.0.1:8080');
  });

  it('ignores malformed messages while waiting', async () => {
    const supervisor = superviseServer(child);
    child.send('ready');
    child.send({ type: 'ready', url: 'http://203.0.113.9:8080' });
    child.send({ type: 'ready', url: 'http://127.0.0.1:8080' });
    await expect(supervisor.ready).resolves.toBe('http://127.0.0.1:8080');
  });

  it('rejects ready with the server own words when it cannot start', async () => {
    const supervisor = superviseServer(child);
    child.send({ type: 'error', message: 'port 8080 on 127.0.0.1 is already in use' });
    child.exit(1);
    await expect(supervisor.ready).rejects.toThrow(new ServerStartError('port 8080 on 127.0.0.1 is already in use'));
  });

  it('rejects ready when the process dies first', async () => {
    const supervisor = superviseServer(child);
    child.exit(9);
    await expect(supervisor.ready).rejects.toThrow(/exit code 9/);
  });

  it('gives up and stops the process after the start timeout', async () => {
    const supervisor = superviseServer(child, { startTimeoutMs: 1000 });
    vi.advanceTimersByTime(1000);
    await expect(supervisor.ready).rejects.toThrow(/did not start within 1 s/);
    expect(child.sent).toEqual([{ type: 'stop' }]);
  });

  it('stops by asking, and resolves once the process has exited', async () => {
    const supervisor = superviseServer(child);
    child.send({ type: 'ready', url: 'http://127.0.0.1:8080' });
    let done = false;
    const stopping = supervisor.stop().then(() => (done = true));
    expect(child.sent).toEqual([{ type: 'stop' }]);
    await Promise.resolve();
    expect(done).toBe(false);
    child.send({ type: 'stopped' });
    child.exit(0);
    await stopping;
    expect(child.killed).toBe(0);
  });

  it('kills a server that does not stop in time', async () => {
    const supervisor = superviseServer(child, { stopTimeoutMs: 500 });
    child.send({ type: 'ready', url: 'http://127.0.0.1:8080' });
    const stopping = supervisor.stop();
    vi.advanceTimersByTime(499);
    expect(child.killed).toBe(0);
    vi.advanceTimersByTime(1);
    expect(child.killed).toBe(1);
    child.exit(143);
    await stopping;
  });

  it('stop is idempotent and asks once', async () => {
    const supervisor = superviseServer(child);
    child.send({ type: 'ready', url: 'http://127.0.0.1:8080' });
    const first = supervisor.stop();
    const second = supervisor.stop();
    expect(second).toBe(first);
    child.exit(0);
    await first;
    await supervisor.stop();
    expect(child.sent).toEqual([{ type: 'stop' }]);
  });

  it('stopping before ready rejects ready, without an unhandled rejection', async () => {
    const supervisor = superviseServer(child);
    const stopping = supervisor.stop();
    child.exit(0);
    await stopping;
    await expect(supervisor.ready).rejects.toBeInstanceOf(ServerStartError);
  });

  it('reports an exit nobody asked for, and only that', async () => {
    const exits: number[] = [];
    const supervisor = superviseServer(child);
    supervisor.onUnexpectedExit((code) => exits.push(code));
    child.send({ type: 'ready', url: 'http://127.0.0.1:8080' });
    await supervisor.ready;
    child.exit(134);
    expect(exits).toEqual([134]);

    const other = new FakeChild();
    const calm = superviseServer(other);
    calm.onUnexpectedExit((code) => exits.push(code));
    other.send({ type: 'ready', url: 'http://127.0.0.1:8080' });
    const stopping = calm.stop();
    other.exit(0);
    await stopping;
    expect(exits).toEqual([134]);
  });

  it('resolves stop at once when the process has already exited', async () => {
    const supervisor = superviseServer(child);
    child.send({ type: 'ready', url: 'http://127.0.0.1:8080' });
    child.exit(1);
    await supervisor.stop();
    expect(child.sent).toEqual([]);
  });
});
