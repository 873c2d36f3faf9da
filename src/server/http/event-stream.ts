import type { ServerResponse } from 'node:http';

/**
 * Starts a Server-Sent Events answer: the headers that keep proxies from buffering or caching it,
 * a reconnect delay, and a first comment so that clients see the stream open at once.
 */
export function openEventStream(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n: connected\n\n');
}
