import type { FastifyError, FastifyInstance } from "fastify";
import { isUnavailableError } from "../db/database.js";
import { AppError, errorCatalogue, isAppError } from "../platform/errors.js";
import { type MessageKey, translator } from "../platform/i18n.js";
import { requestLocale } from "./http.js";
import { renderErrorPage } from "./pages.js";
import { isApiPath } from "./security.js";

/** Retry-After of a 503 while the database is away: a few seconds, as the circuit-breaker holds for one. */
export const UNAVAILABLE_RETRY_S = 5;

/** Maps framework errors (validation, body parsing, rate limit, CSRF) onto the catalogue. */
export function toAppError(error: FastifyError): AppError {
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

/**
 * Every refusal in one shape: `{"error": {"code", "message", ...details}}` on the API, the error
 * page elsewhere, in the request's language. Expected refusals are logged at info; only the
 * unexpected at error, with the stack.
 */
export function registerErrorHandler(server: FastifyInstance): void {
  server.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError.code === "ERR_INTERNAL") request.log.error({ err: error }, "unexpected error");
    // A part of the server that failed (a worker thread) says what went wrong in the error's cause.
    else if (appError.statusCode >= 500 && appError.cause !== undefined)
      request.log.warn({ errorCode: appError.code, reason: String(appError.cause) }, "request failed");
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
  server.setNotFoundHandler(() => {
    throw new AppError("ERR_NOT_FOUND");
  });
}
