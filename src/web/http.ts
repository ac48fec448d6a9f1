import { timingSafeEqual } from "node:crypto";
import type { RateLimitOptions } from "@fastify/rate-limit";
import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../platform/errors.js";
import { fromAcceptLanguage, type Locale, pickLocale } from "../platform/i18n.js";

/** The cookie that carries the device id Sesame issued to this browser (sign-in and recovery pages). */
export const DEVICE_COOKIE = "sesame_device";

/** Shared HTTP helpers: service-token guard, locale of a request, bearer parsing. */
export function bearerOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header?.startsWith("Bearer ")) return null;
  const token = header.slice("Bearer ".length).trim();
  return token === "" ? null : token;
}

const sameSecret = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * onRequest hook for routes that only integrations (with SESAME_API_TOKEN) may call: it runs before
 * the body is parsed and validated, so an anonymous caller learns nothing of what the route expects.
 */
export const requireServiceToken =
  (apiToken: string | null) => async (request: FastifyRequest, _reply: FastifyReply) => {
    const presented = bearerOf(request);
    if (!apiToken || !presented || !sameSecret(presented, apiToken)) throw new AppError("ERR_UNAUTHORIZED");
  };

/** The language the request names itself (`?lang=`, a form's `lang`, a body's `locale`), if any. */
export const explicitLocale = (request: FastifyRequest): string | null => {
  const query = request.query as Record<string, unknown> | undefined;
  const body = request.body as Record<string, unknown> | undefined;
  return [query?.lang, body?.lang, body?.locale].find((v): v is string => typeof v === "string") ?? null;
};

/** Locale from the URL or form, then the account's (when known), then Accept-Language. */
export const requestLocale = (request: FastifyRequest, accountLocale?: string | null): Locale =>
  pickLocale(explicitLocale(request), accountLocale, fromAcceptLanguage(request.headers["accept-language"]));

/** Per-IP limit of a public step (route config), or false when SESAME_RATE_LIMIT_PER_IP=0. */
export type PublicRateLimit = RateLimitOptions | false;
