import WebSocket from 'ws';

/**
 * The answer to a WebSocket upgrade of /api/v1/events/stream on the server at `baseUrl`: 101 when
 * the socket opened (it is closed again at once), else the status the server refused it with.
 */
export function upgradeStatus(baseUrl: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}/api/v1/events/stream`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', () => undefined);
  });
}
