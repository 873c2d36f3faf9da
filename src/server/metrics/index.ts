import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The server's Prometheus series; one registry per app instance, so tests never share counters. */
export interface Metrics {
  registry: Registry;
  eventsIngested: Counter<'tenant_id'>;
  queryDuration: Histogram<'route'>;
  httpRequests: Counter<'method' | 'status'>;
  subscribers: Gauge<'transport'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'allsource_' });
  return {
    registry,
    eventsIngested: new Counter({
      name: 'allsource_events_ingested_total',
      help: 'Events durably appended, by tenant.',
      labelNames: ['tenant_id'],
      registers: [registry],
    }),
    queryDuration: new Histogram({
      name: 'allsource_query_duration_seconds',
      help: 'Time to answer a read, by route.',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'allsource_http_requests_total',
      help: 'HTTP requests answered, by method and status.',
      labelNames: ['method', 'status'],
      registers: [registry],
    }),
    subscribers: new Gauge({
      name: 'allsource_subscribers',
      help: 'Open live subscriptions, by transport (sse, websocket).',
      labelNames: ['transport'],
      registers: [registry],
    }),
  };
}
