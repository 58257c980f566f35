import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AirlockError } from "./errors.js";

export type RefreshOutcome = "success" | "invalid_grant" | "transient" | "interrupted" | "skipped";
export type WebhookOutcome = "delivered" | "failed";

/**
 * Airlock's Prometheus instruments, in one registry per service instance (so tests can run
 * several in a process). Served as text by `GET /metrics`.
 */
export function createMetrics() {
  const registry = new Registry();
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const storeErrors = new Counter({
    name: "airlock_store_errors_total",
    help: "Store operations that failed because the database was unavailable (answered as transient), by store and driver error code (SQLITE_FULL, ECONNREFUSED, 57P01...).",
    labelNames: ["store", "code"] as const,
    registers: [registry],
  });
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
    heldRotations: new Gauge({
      name: "airlock_held_rotations",
      help: "Rotated tokens held in memory because the store has not confirmed them yet.",
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
    airtablePayloads: new Counter({
      name: "airlock_airtable_payloads_total",
      help: "Airtable webhook payloads fetched and queued for delivery.",
      registers: [registry],
    }),
    airtablePings: new Counter({
      name: "airlock_airtable_pings_total",
      help: "Airtable webhook notification pings, by outcome (accepted, forged, unknown).",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    storeErrors,
    /** The store's `onFailure` listener: counts the failure in `airlock_store_errors_total`. */
    recordStoreFailure(failure: AirlockError, store: "sqlite" | "postgres"): void {
      const code = failure.details?.store_error;
      storeErrors.inc({ store, code: typeof code === "string" ? code : failure.code });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
