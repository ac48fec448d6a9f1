import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { setHashThreads } from "./accounts/passwords.js";
import type { Config } from "./config.js";
import { type DbHandle, isPoolWaitTimeout, isReady, isUnavailableError } from "./db/database.js";
import { GroupCommit } from "./db/group-commit.js";
import { buildFeatures, buildServices, type Services } from "./features.js";
import { OutboxDispatcher } from "./messaging/dispatcher.js";
import type { InboundListener } from "./messaging/inbound/listener.js";
import {
  captureTransport,
  smsGatewayTransport,
  smtpTransport,
  type Transport,
} from "./messaging/transports.js";
import { auditKey } from "./platform/audit.js";
import type { Clock } from "./platform/clock.js";
import type { Platform } from "./platform/context.js";
import { AppError } from "./platform/errors.js";
import type { WebContext } from "./platform/feature.js";
import { type MetricsRegistry, metrics } from "./platform/metrics.js";
import { Secrets } from "./platform/secrets.js";
import { KeyedSerializer } from "./platform/serializer.js";
import { TimerService } from "./timers/service.js";
import { registerApiDocs } from "./web/docs.js";
import { registerErrorHandler, UNAVAILABLE_RETRY_S } from "./web/error-handler.js";
import type { PublicRateLimit } from "./web/http.js";
import { lazyRequestLogger } from "./web/request-logger.js";
import { registerSecurity, securityHeaders } from "./web/security.js";

declare module "fastify" {
  interface FastifyInstance {
    /** True when messages are captured for /dev/mailbox instead of being sent. */
    devMailbox: boolean;
  }
}

export interface AppOptions {
  config: Config;
  database: DbHandle;
  clock: Clock;
  /** Replace the transports (tests); by default SMTP / SMS gateway when configured, else captured. */
  transports?: Partial<Record<"email" | "sms", Transport>>;
  /** false: no logs (tests); a stream: logs go there instead of stdout (tests that read them). */
  logger?: false | NodeJS.WritableStream;
}

export interface App {
  server: FastifyInstance;
  platform: Platform;
  dispatcher: OutboxDispatcher;
  /** Served on its own listener (METRICS_PORT), never on the public port: see serveMetrics. */
  metrics: MetricsRegistry;
  services: Services;
  /** Starts every feature's background workers (the outbox, the timers); `serve` calls it. */
  startWorkers(): void;
  /**
   * Starts the SMTP listener for the team addresses (SMTP_INBOUND_PORT; tests pass port 0): each
   * mail is answered 250 only once the desk committed it. Closed with the server.
   */
  startInboundMail(options?: { port?: number }): Promise<InboundListener>;
}

// Logs carry no secrets: the route pattern (`/recover/:id/code`), never the path with its ids, nor
// query strings (recovery links), auth headers or bodies.
const requestSerializer = (request: FastifyRequest) => ({
  method: request.method,
  url: request.routeOptions?.url ?? "(no route)",
  remoteAddress: request.ip,
});

// The longest address the API accepts (254 characters), each character percent-encoded as up to
// three UTF-8 bytes (%XX%XX%XX), still fits in a path parameter.
const MAX_PARAM_LENGTH = 254 * 9;

/** SQLite commits concurrent use-cases together; PostgreSQL runs each in its own transaction. */
function transactions({ db, dialect, statementOf }: DbHandle): Platform["transact"] {
  if (dialect === "sqlite") {
    const group = new GroupCommit(db, statementOf);
    return (work) => group.run(work);
  }
  return (work) => db.transaction().execute(work);
}

export async function buildApp(options: AppOptions): Promise<App> {
  const { config, database, clock } = options;
  const secureCookies = config.publicUrl.startsWith("https:");
  const headers = securityHeaders(secureCookies);
  setHashThreads(config.hashThreads);
  const server = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: config.logLevel,
            redact: {
              paths: [
                "req.headers.authorization",
                "req.headers.cookie",
                "password",
                "code",
                "token",
                "session",
                "*.password",
                "*.code",
              ],
              censor: "[redacted]",
            },
            serializers: { req: requestSerializer },
            ...(options.logger ? { stream: options.logger } : {}),
          },
    // A number of hops trusts that many peers, whoever they are: only safe when Sesame is reachable
    // through the proxies alone (a list of proxy addresses does not need that).
    trustProxy:
      typeof config.trustProxy === "number"
        ? (_address: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy,
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Malformed URLs and overlong parameters get the same coded answer and headers as any error.
    frameworkErrors: (error, request, reply) => {
      reply.headers(headers);
      server.errorHandler(error, request, reply);
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true, allErrors: false } },
    genReqId: () => crypto.randomUUID(),
    childLoggerFactory: lazyRequestLogger,
  });

  const transports: Record<"email" | "sms", Transport> = {
    email:
      options.transports?.email ??
      (config.smtpUrl ? smtpTransport(config.smtpUrl, config.mailFrom) : captureTransport),
    sms:
      options.transports?.sms ??
      (config.smsGatewayUrl ? smsGatewayTransport(config.smsGatewayUrl) : captureTransport),
  };
  // The development mailbox only when nothing at all is configured: a deployment with one transport
  // must not show the other channel's codes on a public page; that channel is off instead.
  const devMailbox = transports.email.captured && transports.sms.captured && !config.production;
  const channels = {
    email: !transports.email.captured || devMailbox,
    sms: !transports.sms.captured || devMailbox,
  };
  if (!channels.sms) server.log.warn("no SMS gateway (SMS_GATEWAY_URL): recovery by text message is off");
  if (!channels.email) server.log.warn("no SMTP server (SMTP_URL): recovery by email is off");
  const secrets = new Secrets(config.secret);
  const transact = transactions(database);
  const dispatcher = new OutboxDispatcher(
    database.db,
    database.dialect,
    clock,
    secrets,
    transports,
    server.log,
    {},
    database.dialect === "sqlite" ? transact : undefined,
  );
  const timers = new TimerService(
    { db: database.db, dialect: database.dialect, clock, log: server.log },
    config.timers,
  );
  const platform: Platform = {
    config,
    db: database.db,
    dialect: database.dialect,
    clock,
    secrets,
    auditKey: auditKey(config.secret),
    channels,
    wakeOutbox: () => dispatcher.wake(),
    timers,
    wakeTimers: () => timers.wake(),
    serialized: new KeyedSerializer(),
    transact,
  };
  const services = buildServices(platform);
  const features = buildFeatures(platform, services, {
    dispatcher,
    capturedChannels: (["email", "sms"] as const).filter((channel) => transports[channel].captured),
  });

  server.decorate("devMailbox", devMailbox);
  await registerSecurity(server, headers, secureCookies);
  await registerApiDocs(server, config.publicUrl);
  registerErrorHandler(server);

  const publicRateLimit: PublicRateLimit =
    config.limits.perIpPerMinute > 0
      ? {
          max: config.limits.perIpPerMinute,
          timeWindow: 60_000,
          keyGenerator: (r: FastifyRequest) => `${r.ip}|${r.routeOptions.url}`,
        }
      : false;

  // Called on the root instance (not registered as a child) so its hook sees every route.
  const metricsRegistry = metrics(server, { db: database.db });
  database.health.log = (error, what) => server.log.warn({ err: error }, what);
  // While the database is known to be down, answer 503 at once instead of each request waiting
  // a connect timeout; probes and the stylesheet need no database.
  const needsNoDatabase = new Set(["/healthz", "/readyz", "/static/app.css"]);
  server.addHook("onRequest", (request, _reply, done) => {
    if (database.health.knownDown && !needsNoDatabase.has(request.url.split("?")[0]!))
      return done(new AppError("ERR_UNAVAILABLE", { retryAfter: UNAVAILABLE_RETRY_S }));
    done();
  });
  server.addHook("onError", async (request, _reply, error) => {
    if (!isUnavailableError(error)) return;
    // Waiting too long for a free connection is a busy pool, not an outage: that request gets its
    // 503, but the breaker stays closed for everyone else (a flood about one address used to trip it).
    if (isPoolWaitTimeout(error)) {
      request.log.warn("database pool busy");
      return;
    }
    database.health.markDown();
    request.log.warn({ err: error }, "database unavailable");
  });
  server.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));
  server.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    if (await isReady(database.db)) {
      database.health.markUp();
      return { status: "ready", channels };
    }
    database.health.markDown();
    return reply
      .code(503)
      .header("retry-after", String(UNAVAILABLE_RETRY_S))
      .send({ status: "unavailable", channels });
  });
  const web: WebContext = { publicRateLimit, secureCookies, apiToken: config.apiToken };
  for (const feature of features) await feature.routes?.(server, web);

  const workers = features.flatMap((feature) => feature.workers ?? []);
  const listeners: InboundListener[] = [];
  server.addHook("onClose", async () => {
    await Promise.all([
      ...listeners.map((listener) => listener.close()),
      ...workers.map((worker) => worker.stop()),
    ]);
  });
  return {
    server,
    platform,
    dispatcher,
    metrics: metricsRegistry,
    services,
    startWorkers: () => {
      for (const worker of workers) worker.start();
    },
    startInboundMail: async (options = {}) => {
      // smtp-server and mailparser are loaded only by a node that receives mail (SMTP_INBOUND_PORT).
      const { startInboundListener } = await import("./messaging/inbound/listener.js");
      const listener = await startInboundListener({
        host: config.inboundMail?.host ?? "127.0.0.1",
        port: options.port ?? config.inboundMail?.port ?? 0,
        maxBytes: config.inboundMail?.maxBytes ?? 10 * 1024 * 1024,
        acceptsRecipient: services.desk.acceptsRecipient,
        onMail: (mail) => services.desk.receiveMail(mail),
        log: server.log,
        secrets,
      });
      listeners.push(listener);
      return listener;
    },
  };
}
