import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../db/database.js";

export type MetricsRegistry = Registry;

/**
 * Prometheus metrics: process metrics, HTTP latency per route, and what the outbox still holds.
 * Collected on the app, served by `serveMetrics` on a listener of its own: a public /metrics would
 * tell the world when a message is queued (for instance, after the right alternate was typed).
 */
export function metrics(app: FastifyInstance, opts: { db: Db }): MetricsRegistry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "sesame_http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const errors = new Counter({
    name: "sesame_http_errors_total",
    help: "Responses with status >= 500",
    labelNames: ["route"],
    registers: [registry],
  });
  new Gauge({
    name: "sesame_outbox_pending",
    help: "Messages waiting in the outbox",
    registers: [registry],
    async collect() {
      const row = await opts.db
        .selectFrom("outbox")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("status", "=", "pending")
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });

  // The callback form: an async hook costs a promise and a microtask turn on every request.
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    duration.observe({ method: request.method, route, status: reply.statusCode }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) errors.inc({ route });
    done();
  });
  return registry;
}

/** GET /metrics on METRICS_HOST:METRICS_PORT (127.0.0.1:9464 by default); anything else is a 404. */
export async function serveMetrics(registry: MetricsRegistry, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      () => response.writeHead(503).end(),
    );
  });
  server.listen(port, host);
  await once(server, "listening");
  return server;
}
