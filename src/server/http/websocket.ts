import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { can, type Principal } from '../identity/index.js';
import { DomainError } from '../errors/index.js';
import type { Metrics } from '../metrics/index.js';
import { payloadViewOf } from './payload-view.js';
import {
  entityIdProblem,
  eventTypePrefixProblem,
  eventTypeProblem,
  matchesFilter,
  type EventStore,
  type FeedFilter,
  type PayloadView,
} from '../store/index.js';

export const WEBSOCKET_PATH = '/api/v1/events/stream';

export interface WebSocketOptions {
  store: EventStore;
  metrics: Metrics;
  logger: Logger;
  /** The principal of an upgrade request (from its credential headers, or dev mode's), or undefined. */
  authenticate: (req: IncomingMessage) => Promise<Principal | undefined>;
  /** Asked every `recheckMs`: is the credential that opened a stream still good? If not, the stream closes. */
  stillAuthorized: (req: IncomingMessage) => Promise<boolean>;
  recheckMs?: number;
  /** May this browser origin open a stream? Non-browser clients send no Origin. */
  originAllowed: (origin: string) => boolean;
  /**
   * Request protection's Host check, IP filter and tenant bucket (http/protection upgradeGuard):
   * called without a tenant before authentication and with it after. Absent: protection is off.
   */
  networkGuard?: ((req: IncomingMessage, tenantId?: string) => 403 | 429 | undefined) | undefined;
  /**
   * Records the subscription in the audit trail before the socket opens; false when the record
   * could not be written, and the upgrade is then refused (fail closed, like every route).
   */
  recordSubscription?: (req: IncomingMessage, principal: Principal) => boolean;
  /** Past this many bytes queued for a client, events for it are dropped and counted. */
  maxBufferedBytes?: number;
  pingIntervalMs?: number;
}

const MAX_MESSAGE_BYTES = 16 * 1024;

const FOREIGN_TENANT = 'tenant_id does not match the tenant of your credential';

function parseFilter(text: string, tenantId: string): FeedFilter | string {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return 'the message is not valid JSON';
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message))
    return 'the message must be a JSON object';
  const m = message as Record<string, unknown>;
  if (m['tenant_id'] !== undefined && m['tenant_id'] !== tenantId) return FOREIGN_TENANT;
  // allsource-core's newer form: {"type":"subscribe","filters":["orders.*","user.created"]}.
  if (m['type'] === 'subscribe') {
    const filters = m['filters'];
    if (!Array.isArray(filters) || filters.length > 100 || !filters.every((f) => typeof f === 'string')) {
      return 'filters must be an array of at most 100 strings';
    }
    const eventTypes: string[] = [];
    const eventTypePrefixes: string[] = [];
    for (const pattern of filters as string[]) {
      // "orders.*" matches "orders.created" and "orders.line.added"; anything else is an exact type.
      const prefix = pattern.endsWith('.*') ? pattern.slice(0, -1) : undefined;
      const problem = prefix === undefined ? eventTypeProblem(pattern) : eventTypePrefixProblem(prefix);
      if (problem) return `filter ${JSON.stringify(pattern)} ${problem}`;
      if (prefix === undefined) eventTypes.push(pattern);
      else eventTypePrefixes.push(prefix);
    }
    return filters.length === 0 ? {} : { eventTypes, eventTypePrefixes };
  }
  const filter: FeedFilter = {};
  if (m['entity_id'] !== undefined && m['entity_id'] !== null) {
    const problem = entityIdProblem(m['entity_id']);
    if (problem) return `entity_id ${problem}`;
    filter.entityId = m['entity_id'] as string;
  }
  if (m['event_type'] !== undefined && m['event_type'] !== null) {
    const problem = eventTypeProblem(m['event_type']);
    if (problem) return `event_type ${problem}`;
    filter.eventTypes = [m['event_type'] as string];
  }
  if (m['event_type_prefix'] !== undefined && m['event_type_prefix'] !== null) {
    const prefix = m['event_type_prefix'];
    const problem = typeof prefix === 'string' ? eventTypePrefixProblem(prefix) : 'must be a string';
    if (problem) return `event_type_prefix ${problem}`;
    filter.eventTypePrefixes = [prefix as string];
  }
  return filter;
}

/**
 * GET /api/v1/events/stream: live events over a WebSocket, allsource-core style. A client
 * that cannot keep up is never buffered without bound: events are dropped for it and it is
 * told `{"type":"lagged","missed":n}` once it has caught up.
 */
export function attachWebSocket(server: Server, options: WebSocketOptions): { close(): void } {
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    const origin = req.headers.origin;
    if (path !== WEBSOCKET_PATH) return refuse(socket, 404, 'Not Found');
    if (options.networkGuard?.(req) !== undefined) return refuse(socket, 403, 'Forbidden');
    if (origin !== undefined && !options.originAllowed(origin)) return refuse(socket, 403, 'Forbidden');
    void options.authenticate(req).then(
      (principal) => {
        if (!principal) return refuse(socket, 401, 'Unauthorized');
        // Reading the stream is reading events: the same permission as GET /events/query.
        if (!can(principal, 'read')) return refuse(socket, 403, 'Forbidden');
        // As on every route, a tenant_id naming another tenant is refused, never ignored.
        const named = new URL(req.url ?? '/', 'http://x').searchParams.getAll('tenant_id');
        if (named.some((tenantId) => tenantId !== principal.tenantId)) return refuse(socket, 403, 'Forbidden');
        const refused = options.networkGuard?.(req, principal.tenantId);
        if (refused !== undefined) return refuse(socket, refused, refused === 429 ? 'Too Many Requests' : 'Forbidden');
        if (options.recordSubscription && !options.recordSubscription(req, principal)) {
          return refuse(socket, 503, 'Service Unavailable');
        }
        wss.handleUpgrade(req, socket, head, (ws) => serve(ws, principal.tenantId, payloadViewOf(principal), req));
      },
      (error: unknown) => {
        const status = error instanceof DomainError && error.code !== 'unauthorized' ? 403 : 401;
        refuse(socket, status, status === 401 ? 'Unauthorized' : 'Forbidden');
      },
    );
  });

  function refuse(socket: Duplex, status: number, reason: string): void {
    const extra = status === 401 ? 'WWW-Authenticate: Bearer realm="allsource"\r\n' : '';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
  }

  function serve(ws: WebSocket, tenantId: string, view: PayloadView, req: IncomingMessage): void {
    let filter: FeedFilter = {};
    let missed = 0;
    let alive = true;
    options.metrics.subscribers.inc({ transport: 'websocket' });

    const send = (text: string): void => {
      if (ws.bufferedAmount > maxBuffered) {
        missed += 1;
        return;
      }
      if (missed > 0) {
        ws.send(JSON.stringify({ type: 'lagged', missed }));
        missed = 0;
      }
      ws.send(text);
    };
    const stopListening = options.store.feed.listen(tenantId, (items) => {
      for (const item of items) {
        if (matchesFilter(item, filter)) send(item.jsonFor(view));
      }
    });
    // Once a second: tell a lagging client as soon as it has drained, even if no new event
    // arrives; every pingIntervalMs, drop a client that stopped answering pings.
    const pingEvery = Math.max(1, Math.round((options.pingIntervalMs ?? 30_000) / 1000));
    const recheckEvery = Math.max(1, Math.round((options.recheckMs ?? 15_000) / 1000));
    let ticks = 0;
    const ticker = setInterval(() => {
      if ((ticks + 1) % recheckEvery === 0) {
        void options.stillAuthorized(req).then((ok) => {
          // 1008 policy violation: the credential was revoked, logged out, expired or its tenant suspended.
          if (!ok) ws.close(1008, 'credential no longer valid');
        });
      }
      if (missed > 0 && ws.bufferedAmount <= maxBuffered) {
        ws.send(JSON.stringify({ type: 'lagged', missed }));
        missed = 0;
      }
      if (++ticks % pingEvery !== 0) return;
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, 1000);

    ws.on('pong', () => (alive = true));
    ws.on('message', (data, isBinary) => {
      const parsed = isBinary ? 'send filters as a text message' : parseFilter(data.toString('utf8'), tenantId);
      if (parsed === FOREIGN_TENANT) {
        ws.send(JSON.stringify({ type: 'error', error: 'forbidden', message: parsed }));
        return;
      }
      if (typeof parsed === 'string') {
        ws.send(JSON.stringify({ type: 'error', error: 'invalid_request', message: parsed }));
        return;
      }
      // Each message replaces the whole filter, as in allsource-core. No acknowledgement is sent:
      // allsource-core clients expect only events and notices on this socket.
      filter = parsed;
    });
    ws.on('error', (error) => options.logger.debug({ err: error }, 'websocket error'));
    ws.on('close', () => {
      clearInterval(ticker);
      stopListening();
      options.metrics.subscribers.dec({ transport: 'websocket' });
    });
  }

  return {
    close() {
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      wss.close();
    },
  };
}
