import cookie from "@fastify/cookie";
import csrf from "@fastify/csrf-protection";
import formbody from "@fastify/formbody";
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import helmet from "helmet";
import { AppError } from "../platform/errors.js";

/** Paths answered with the JSON error shape; every other path gets the HTML error page. */
export const isApiPath = (url: string) => /^\/(api\/|healthz|readyz)/.test(url);

/** Whether a parsed value holds a NUL character, which PostgreSQL refuses in text. */
const holdsNul = (value: unknown): boolean => {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === "object")
    for (const key in value)
      if (key.includes("\u0000") || holdsNul((value as Record<string, unknown>)[key])) return true;
  return false;
};

/** The media type of a request, without parameters (`application/json; charset=utf-8` -> `application/json`). */
const mediaType = (request: FastifyRequest) =>
  request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();

const carriesBody = (request: FastifyRequest) =>
  request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? 0) > 0;

/** The security headers of every answer, by lower-case name. */
export type SecurityHeaders = Readonly<Record<string, string>>;

/**
 * helmet's headers, taken once from its middleware: with this configuration they never change from
 * one request to the next (no nonce), and its chain of a dozen middlewares, each setting a header on
 * the raw response, cost 3% of a recovery start. Set on the reply, they also let Node write the
 * head in one pass.
 */
export function securityHeaders(secureCookies: boolean): SecurityHeaders {
  const middleware = helmet({
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
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = value;
    },
    // helmet removes X-Powered-By, which Fastify never sets.
    removeHeader: () => {},
  };
  // Each of its middlewares sets its header and calls the next at once (a bad directive throws
  // when helmet() is built, above).
  middleware({} as never, response as never, () => {});
  return Object.freeze(headers);
}

/**
 * Security headers on every answer, JSON-only API, no NUL in input, cookies, CSRF for forms, form
 * bodies, and the rate limiter that public routes opt into.
 */
export async function registerSecurity(
  server: FastifyInstance,
  headers: SecurityHeaders,
  secureCookies: boolean,
): Promise<void> {
  // The hooks every request runs take Fastify's callback form: an async hook costs a promise and a
  // turn of the microtask queue each.
  server.addHook("onRequest", (request, reply, done) => {
    reply.headers(headers);
    // The JSON API reads JSON only: a form or text/plain post from another site cannot reach it.
    if (isApiPath(request.url)) {
      const type = mediaType(request);
      const body = carriesBody(request);
      if ((type !== undefined || body) && type !== "application/json")
        return done(new AppError("ERR_UNSUPPORTED_MEDIA_TYPE"));
      // Nothing to parse: a bodyless request that names JSON anyway (many clients do) is no 400.
      if (!body) delete request.headers["content-type"];
    }
    done();
  });
  // PostgreSQL refuses NUL in text: refused here as bad input, on both databases.
  server.addHook("preValidation", (request, _reply, done) => {
    if (holdsNul(request.params) || holdsNul(request.query) || holdsNul(request.body))
      return done(new AppError("ERR_VALIDATION", { reason: "nul_character" }));
    done();
  });
  await server.register(cookie);
  await server.register(csrf, {
    cookieOpts: { httpOnly: true, sameSite: "strict", path: "/", secure: secureCookies, signed: false },
  });
  await server.register(formbody);
  await server.register(rateLimit, { global: false });
  // API answers may carry sessions and personal data: never kept by a browser or proxy cache.
  server.addHook("onSend", (request, reply, payload, done) => {
    if (request.url.startsWith("/api/")) reply.header("cache-control", "no-store");
    done(null, payload);
  });
}
