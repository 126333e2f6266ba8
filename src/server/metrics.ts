import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../kernel/index.ts";
import { deliveryBacklog } from "../webhooks/index.ts";
import type { Services } from "./services.ts";

/**
 * The app's Prometheus metrics, in a registry of its own: tests run several apps in one process,
 * and prom-client's global registry would refuse the second app's metrics (same names).
 */
export interface Metrics {
  registry: Registry;
  /** Counts and times one HTTP request once its response is finished. */
  observeRequest(req: IncomingMessage, res: ServerResponse, path: string, seconds: number): void;
}

/** Paths served by a route of their own; anything else is one label, so labels stay few. */
const ROUTES = ["/graphql", "/healthz", "/readyz", "/metrics", "/files", "/oauth", "/.well-known"];

function routeOf(path: string): string {
  if (path === "/") return "/";
  return ROUTES.find((route) => path === route || path.startsWith(`${route}/`)) ?? "other";
}

/** `read`, with calls made while one is running sharing its result. */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  return () => {
    running ??= read().finally(() => {
      running = null;
    });
    return running;
  };
}

export function createMetrics(db: Db, services: Services): Metrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "plugboard_http_requests_total",
    help: "HTTP requests answered, by method, route and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "plugboard_http_request_duration_seconds",
    help: "Time from a request's arrival to the end of its response (a subscription's stream: its whole life).",
    labelNames: ["method", "route"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  // Read on each scrape, so nothing runs between scrapes. The registry collects every metric at
  // once: the two gauges of one reading share its query.
  const feedLag = shared(() => services.sequencer.lag());
  const backlog = shared(() => deliveryBacklog(db));
  new Gauge({
    name: "plugboard_changes_unsequenced",
    help: "Change rows written but not yet given a public id.",
    registers: [registry],
    async collect() {
      this.set((await feedLag()).pending);
    },
  });
  new Gauge({
    name: "plugboard_changes_lag_seconds",
    help: "Age of the oldest change row not yet given a public id.",
    registers: [registry],
    async collect() {
      this.set((await feedLag()).oldestSeconds);
    },
  });
  new Gauge({
    name: "plugboard_webhook_deliveries_pending",
    help: "Deliveries of active webhooks not yet made (due, or waiting for a retry).",
    registers: [registry],
    async collect() {
      this.set((await backlog()).pending);
    },
  });
  new Gauge({
    name: "plugboard_webhook_delivery_backlog_seconds",
    help: "Age of the oldest delivery of an active webhook not yet made.",
    registers: [registry],
    async collect() {
      this.set((await backlog()).oldestSeconds);
    },
  });
  new Gauge({
    name: "plugboard_subscriptions_open",
    help: "GraphQL subscriptions open in this process (WebSocket and SSE).",
    registers: [registry],
    collect() {
      this.set(services.subscriptions.size);
    },
  });

  return {
    registry,
    observeRequest(req, res, path, seconds) {
      const method = req.method ?? "OTHER";
      const route = routeOf(path);
      requests.inc({ method, route, status: String(res.statusCode) });
      duration.observe({ method, route }, seconds);
    },
  };
}

/** `GET /metrics`: the registry in Prometheus text format; 503 while the database is unreachable. */
export function sendMetrics(res: ServerResponse, registry: Registry): void {
  registry.metrics().then(
    (text) => {
      res.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
      res.end(text);
    },
    () => {
      res.writeHead(503, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ status: "unavailable", reason: "database unreachable" }));
    },
  );
}
