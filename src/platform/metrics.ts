import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../db/database.js";

/** Prometheus /metrics: process metrics, HTTP latency per route, and what the outbox still holds. */
export async function metrics(app: FastifyInstance, opts: { db: Db }) {
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

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    duration.observe({ method: request.method, route, status: reply.statusCode }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500) errors.inc({ route });
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
