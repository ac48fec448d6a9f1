import cookie from "@fastify/cookie";
import csrf from "@fastify/csrf-protection";
import formbody from "@fastify/formbody";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from "fastify";
import helmet from "helmet";
import { accountsApi } from "./accounts/api.js";
import { accountsPages } from "./accounts/pages.js";
import { AccountsService } from "./accounts/service.js";
import { casesPages } from "./cases/pages.js";
import { CasesService } from "./cases/service.js";
import type { Config } from "./config.js";
import { type DbHandle, isPoolWaitTimeout, isReady, isUnavailableError } from "./db/database.js";
import { devApi } from "./dev/api.js";
import { helpPages } from "./help/pages.js";
import { OutboxDispatcher } from "./messaging/dispatcher.js";
import {
  captureTransport,
  smsGatewayTransport,
  smtpTransport,
  type Transport,
} from "./messaging/transports.js";
import { auditKey } from "./platform/audit.js";
import type { Clock } from "./platform/clock.js";
import type { Platform } from "./platform/context.js";
import { AppError, errorCatalogue, isAppError } from "./platform/errors.js";
import { type MessageKey, translator } from "./platform/i18n.js";
import { type MetricsRegistry, metrics } from "./platform/metrics.js";
import { Secrets } from "./platform/secrets.js";
import { KeyedSerializer } from "./platform/serializer.js";
import { recoveryApi } from "./recovery/api.js";
import { recoveryPages } from "./recovery/pages.js";
import { RecoveryService } from "./recovery/service.js";
import { type PublicRateLimit, requestLocale } from "./web/http.js";
import { apiTags, declareTags, documentOperation } from "./web/openapi.js";
import { renderErrorPage, webAssets } from "./web/pages.js";
import { ErrorBody } from "./web/schemas.js";

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
  services: { accounts: AccountsService; recovery: RecoveryService; cases: CasesService };
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

/** Paths answered with the JSON error shape; every other path gets the HTML error page. */
const isApiPath = (url: string) => /^\/(api\/|healthz|readyz)/.test(url);

/** Whether a parsed value holds a NUL character, which PostgreSQL refuses in text. */
const holdsNul = (value: unknown): boolean => {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === "object")
    return Object.entries(value).some(([key, inner]) => key.includes("\u0000") || holdsNul(inner));
  return false;
};

/** The media type of a request, without parameters (`application/json; charset=utf-8` -> `application/json`). */
const mediaType = (request: FastifyRequest) =>
  request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();

const carriesBody = (request: FastifyRequest) =>
  request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? 0) > 0;

/** Maps framework errors (validation, body parsing, rate limit, CSRF) onto the catalogue. */
function toAppError(error: FastifyError): AppError {
  if (isAppError(error)) return error;
  if (error.validation) {
    const first = error.validation[0];
    const field = first
      ? `${first.instancePath || ""}${"missingProperty" in (first.params ?? {}) ? `/${(first.params as { missingProperty: string }).missingProperty}` : ""}`.replace(
          /^\//,
          "",
        )
      : undefined;
    return new AppError("ERR_VALIDATION", { ...(field ? { field } : {}), context: error.validationContext });
  }
  if (error.code?.startsWith("FST_CSRF")) return new AppError("ERR_CSRF");
  if (error.statusCode === 429) return new AppError("ERR_RATE_LIMITED");
  if (error.statusCode === 413) return new AppError("ERR_PAYLOAD_TOO_LARGE");
  if (error.statusCode === 415) return new AppError("ERR_UNSUPPORTED_MEDIA_TYPE");
  if (error.code === "FST_ERR_BAD_URL") return new AppError("ERR_VALIDATION", { reason: "malformed_url" });
  if (error.code === "FST_ERR_MAX_PARAM_LENGTH")
    return new AppError("ERR_VALIDATION", { reason: "parameter_too_long" });
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return error.statusCode === 404
      ? new AppError("ERR_NOT_FOUND")
      : new AppError("ERR_VALIDATION", { reason: error.code ?? "bad_request" });
  }
  if (isUnavailableError(error)) return new AppError("ERR_UNAVAILABLE", { retryAfter: UNAVAILABLE_RETRY_S });
  return new AppError("ERR_INTERNAL");
}

/** Retry-After of a 503 while the database is away: a few seconds, as the circuit-breaker holds for one. */
const UNAVAILABLE_RETRY_S = 5;

export async function buildApp(options: AppOptions): Promise<App> {
  const { config, database, clock } = options;
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
    frameworkErrors: (error, request, reply) =>
      securityHeaders(request.raw, reply.raw, () => server.errorHandler(error, request, reply)),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true, allErrors: false } },
    genReqId: () => crypto.randomUUID(),
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
  const dispatcher = new OutboxDispatcher(
    database.db,
    database.dialect,
    clock,
    secrets,
    transports,
    server.log,
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
    serialized: new KeyedSerializer(),
  };
  const accounts = new AccountsService(platform);
  const cases = new CasesService(platform);
  const recovery = new RecoveryService(platform, accounts, cases);

  const capturedChannels = (["email", "sms"] as const).filter((channel) => transports[channel].captured);
  server.decorate("devMailbox", devMailbox);
  const secureCookies = config.publicUrl.startsWith("https:");
  // helmet's middleware built once (@fastify/helmet rebuilds it on every request, ~6% of a hot path).
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        ...(secureCookies ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: secureCookies,
  });
  server.addHook("onRequest", (request, reply, done) =>
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)),
  );
  // The JSON API reads JSON only: a form or text/plain post from another site cannot reach it.
  server.addHook("onRequest", async (request) => {
    if (!isApiPath(request.url)) return;
    const type = mediaType(request);
    if ((type !== undefined || carriesBody(request)) && type !== "application/json")
      throw new AppError("ERR_UNSUPPORTED_MEDIA_TYPE");
    // Nothing to parse: a bodyless request that names JSON anyway (many clients do) is no 400.
    if (!carriesBody(request)) delete request.headers["content-type"];
  });
  // PostgreSQL refuses NUL in text: refused here as bad input, on both databases.
  server.addHook("preValidation", async (request) => {
    if (holdsNul(request.params) || holdsNul(request.query) || holdsNul(request.body))
      throw new AppError("ERR_VALIDATION", { reason: "nul_character" });
  });
  await server.register(cookie);
  await server.register(csrf, {
    cookieOpts: { httpOnly: true, sameSite: "strict", path: "/", secure: secureCookies, signed: false },
  });
  await server.register(formbody);
  await server.register(rateLimit, { global: false });
  await server.register(swagger, {
    openapi: {
      info: {
        title: "Sesame API",
        version: "1",
        description: "Account recovery and support escalation.",
        contact: { name: "Sesame", url: `${config.publicUrl}/` },
        license: { name: "AGPL-3.0-or-later", url: "https://www.gnu.org/licenses/agpl-3.0.html" },
      },
      servers: [{ url: config.publicUrl, description: "This Sesame (PUBLIC_URL)" }],
      tags: apiTags,
      components: {
        securitySchemes: {
          serviceToken: { type: "http", scheme: "bearer", description: "SESAME_API_TOKEN" },
          session: { type: "http", scheme: "bearer", description: "A session from POST /api/v1/signin" },
        },
      },
    },
    transform: documentOperation,
    transformObject: declareTags,
    // Shared schemas keep their name in the document (#/components/schemas/ErrorBody, not def-0).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  server.addSchema(ErrorBody);

  // Expected refusals are logged at info; only the unexpected at error, with the stack.
  server.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError.code === "ERR_INTERNAL") request.log.error({ err: error }, "unexpected error");
    // `errorCode`, not `code`: log redaction blanks every `code` field (one-time codes).
    else request.log.info({ errorCode: appError.code, statusCode: appError.statusCode }, "request refused");
    const locale = requestLocale(request);
    const t = translator(locale);
    const params = {
      correlationId: request.id,
      attemptsLeft: "",
      retryAfterMinutes: "",
      hint: "",
      ...appError.params,
    };
    const message = t(`error.${appError.code}` as MessageKey, params);
    const retryAfter = appError.details.retryAfter;
    if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
    reply.code(errorCatalogue[appError.code]).header("cache-control", "no-store");
    if (isApiPath(request.url)) {
      return reply.send({
        error: {
          code: appError.code,
          message,
          ...appError.details,
          ...(appError.code === "ERR_INTERNAL" ? { correlationId: request.id } : {}),
        },
      });
    }
    return reply.type("text/html; charset=utf-8").send(renderErrorPage(request, locale, message));
  });
  // API answers may carry sessions and personal data: never kept by a browser or proxy cache.
  server.addHook("onSend", async (request, reply) => {
    if (request.url.startsWith("/api/")) reply.header("cache-control", "no-store");
  });
  server.setNotFoundHandler(() => {
    throw new AppError("ERR_NOT_FOUND");
  });

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
  server.addHook("onRequest", async (request) => {
    if (database.health.knownDown && !needsNoDatabase.has(request.url.split("?")[0]!))
      throw new AppError("ERR_UNAVAILABLE", { retryAfter: UNAVAILABLE_RETRY_S });
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
  server.get("/api/docs", { schema: { hide: true } }, async () => server.swagger());

  await server.register(accountsApi, {
    accounts,
    apiToken: config.apiToken,
    publicUrl: config.publicUrl,
    publicRateLimit,
  });
  await server.register(recoveryApi, { recovery, publicRateLimit });
  await server.register(devApi, {
    platform,
    apiToken: config.apiToken,
    capturedChannels,
  });
  await server.register(webAssets);
  await server.register(helpPages);
  await server.register(accountsPages, {
    accounts,
    openCaseRefOf: (address) => cases.openCaseRefOf(address),
    publicRateLimit,
    secureCookies,
  });
  await server.register(recoveryPages, { recovery, publicRateLimit, secureCookies });
  await server.register(casesPages, { cases });

  server.addHook("onClose", async () => {
    await dispatcher.stop();
  });
  return { server, platform, dispatcher, metrics: metricsRegistry, services: { accounts, recovery, cases } };
}
