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
import { type DbHandle, isReady } from "./db/database.js";
import { devApi } from "./dev/api.js";
import { helpPages } from "./help/pages.js";
import { OutboxDispatcher } from "./messaging/dispatcher.js";
import {
  captureTransport,
  smsGatewayTransport,
  smtpTransport,
  type Transport,
} from "./messaging/transports.js";
import type { Clock } from "./platform/clock.js";
import type { Platform } from "./platform/context.js";
import { AppError, errorCatalogue, isAppError } from "./platform/errors.js";
import { type MessageKey, translator } from "./platform/i18n.js";
import { metrics } from "./platform/metrics.js";
import { Secrets } from "./platform/secrets.js";
import { recoveryApi } from "./recovery/api.js";
import { recoveryPages } from "./recovery/pages.js";
import { RecoveryService } from "./recovery/service.js";
import { type PublicRateLimit, requestLocale } from "./web/http.js";
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
  services: { accounts: AccountsService; recovery: RecoveryService; cases: CasesService };
}

// Logs carry no secrets: no query strings (recovery links), no auth headers, no bodies.
const requestSerializer = (request: FastifyRequest) => ({
  method: request.method,
  url: request.url.split("?")[0],
  remoteAddress: request.ip,
});

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
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return error.statusCode === 404
      ? new AppError("ERR_NOT_FOUND")
      : new AppError("ERR_VALIDATION", { reason: error.code ?? "bad_request" });
  }
  return new AppError("ERR_INTERNAL");
}

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
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
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
    wakeOutbox: () => dispatcher.wake(),
  };
  const accounts = new AccountsService(platform);
  const cases = new CasesService(platform);
  const recovery = new RecoveryService(platform, accounts, cases);

  const capturedChannels = (["email", "sms"] as const).filter((channel) => transports[channel].captured);
  server.decorate("devMailbox", capturedChannels.length > 0 && !config.production);
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
  await server.register(cookie);
  await server.register(csrf, {
    cookieOpts: { httpOnly: true, sameSite: "strict", path: "/", secure: secureCookies, signed: false },
  });
  await server.register(formbody);
  await server.register(rateLimit, { global: false });
  await server.register(swagger, {
    openapi: {
      info: { title: "Sesame API", version: "1", description: "Account recovery and support escalation." },
      components: {
        securitySchemes: {
          serviceToken: { type: "http", scheme: "bearer", description: "SESAME_API_TOKEN" },
          session: { type: "http", scheme: "bearer", description: "A session from POST /api/v1/signin" },
        },
      },
    },
  });
  server.addSchema(ErrorBody);

  server.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError.code === "ERR_INTERNAL") request.log.error({ err: error }, "unexpected error");
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
    reply.code(errorCatalogue[appError.code]);
    if (
      request.url.startsWith("/api/") ||
      request.url.startsWith("/healthz") ||
      request.url.startsWith("/readyz")
    ) {
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
  await metrics(server, { db: database.db });
  server.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));
  server.get("/readyz", { schema: { hide: true } }, async (_request, reply) =>
    (await isReady(database.db)) ? { status: "ready" } : reply.code(503).send({ status: "unavailable" }),
  );
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
  await server.register(accountsPages, { accounts, publicRateLimit, secureCookies });
  await server.register(recoveryPages, { recovery, publicRateLimit, secureCookies });
  await server.register(casesPages, { cases });

  server.addHook("onClose", async () => {
    await dispatcher.stop();
  });
  return { server, platform, dispatcher, services: { accounts, recovery, cases } };
}
