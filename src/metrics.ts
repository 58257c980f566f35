import { Counter, Gauge, Histogram, Registry } from "prom-client";

export type RefreshOutcome = "success" | "invalid_grant" | "transient" | "interrupted" | "skipped";
export type WebhookOutcome = "delivered" | "failed";

/**
 * Airlock's Prometheus instruments, in one registry per service instance (so tests can run
 * several in a process). Served as text by `GET /metrics`.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.refreshAttempts.inc({ outcome: "success" });
 * const text = await metrics.registry.metrics();
 */
export function createMetrics() {
  const registry = new Registry();
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    refreshAttempts: new Counter({
      name: "airlock_refresh_attempts_total",
      help: "Calls to Airtable's token endpoint with a refresh token, by outcome.",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    refreshLatency: new Histogram({
      name: "airlock_refresh_duration_seconds",
      help: "Time spent in Airtable's token endpoint per refresh.",
      buckets: latencyBuckets,
      registers: [registry],
    }),
    leaseWaits: new Histogram({
      name: "airlock_lease_wait_seconds",
      help: "Time a caller waited for another holder's refresh to finish.",
      buckets: latencyBuckets,
      registers: [registry],
    }),
    proxyRequests: new Counter({
      name: "airlock_proxy_requests_total",
      help: "Requests answered by the proxy, by HTTP status.",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    proxyLatency: new Histogram({
      name: "airlock_proxy_duration_seconds",
      help: "Proxy request latency until response headers, including token lookup.",
      buckets: latencyBuckets,
      registers: [registry],
    }),
    connections: new Gauge({
      name: "airlock_connections",
      help: "Connections by status (sampled at scrape time).",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: "airlock_webhook_deliveries_total",
      help: "Webhook delivery attempts, by outcome.",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
