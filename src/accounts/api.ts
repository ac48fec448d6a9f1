import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { AppError } from "../platform/errors.js";
import type { Locale } from "../platform/i18n.js";
import { bearerOf, type PublicRateLimit, requestLocale, requireServiceToken } from "../web/http.js";
import { Email, LocaleParam, Password, withErrors } from "../web/schemas.js";
import { lockReasons, securityEventTypes } from "./model.js";
import type { AccountsService, AccountView, SigninResult } from "./service.js";

const Alternate = Type.Object({
  kind: Type.Union([Type.Literal("email"), Type.Literal("phone")]),
  value: Type.String({ minLength: 1, maxLength: 254 }),
  verified: Type.Optional(Type.Boolean()),
});

const CreateAccountBody = Type.Object({
  address: Email,
  password: Password,
  displayName: Type.Optional(Type.String({ maxLength: 200 })),
  locale: LocaleParam,
  country: Type.Optional(Type.String({ pattern: "^[A-Za-z]{2}$" })),
  alternates: Type.Optional(Type.Array(Alternate, { maxItems: 20 })),
});

const AddressParams = Type.Object({ address: Email });

const LockBody = Type.Object({
  reason: Type.Union(lockReasons.map((r) => Type.Literal(r))),
  note: Type.Optional(Type.String({ maxLength: 1000 })),
});

const EventBody = Type.Object({
  type: Type.Union(securityEventTypes.map((t) => Type.Literal(t))),
  address: Email,
  ip: Type.Optional(Type.String({ maxLength: 64 })),
  deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  country: Type.Optional(Type.String({ maxLength: 2 })),
});

const SigninBody = Type.Object({
  address: Email,
  password: Password,
  deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

const Lock = Type.Object({
  reason: Type.String(),
  since: Type.String({ format: "date-time" }),
  until: Type.Optional(Type.String({ format: "date-time" })),
});

const AccountBody = Type.Object({
  id: Type.String(),
  address: Type.String(),
  status: Type.Union([Type.Literal("active"), Type.Literal("locked")]),
  displayName: Type.Optional(Type.String()),
  locale: Type.String(),
  country: Type.Optional(Type.String()),
  lock: Type.Optional(Lock),
  alternates: Type.Array(
    Type.Object({ kind: Type.String(), masked: Type.String(), verified: Type.Boolean() }),
  ),
});

const iso = (ms: number) => new Date(ms).toISOString();

/** Presenter: what the API shows of an account (never a hash, never a full alternate). */
export const presentAccount = (view: AccountView) => ({
  id: view.id,
  address: view.address,
  status: view.status,
  ...(view.displayName ? { displayName: view.displayName } : {}),
  locale: view.locale,
  ...(view.country ? { country: view.country } : {}),
  ...(view.lock
    ? {
        lock: {
          reason: view.lock.reason,
          since: iso(view.lock.since),
          ...(view.lock.until ? { until: iso(view.lock.until) } : {}),
        },
      }
    : {}),
  alternates: view.alternates,
});

/**
 * The 423 of a sign-in. Its link follows the request's language, never the account's (that would
 * tell a stranger the account exists). A throttle answer is the same for every address after the
 * same failures: brute_force, its end, and Retry-After.
 */
function lockedError(
  result: Exclude<SigninResult, { outcome: "signed_in" }>,
  publicUrl: string,
  locale: Locale,
) {
  const recoverUrl = `${publicUrl}/recover?lang=${locale}&address=${encodeURIComponent(result.address)}`;
  if (result.outcome === "throttled")
    return new AppError("ERR_ACCOUNT_LOCKED", {
      recoverUrl,
      lock: { reason: "brute_force", until: iso(result.until) },
      retryAfter: result.retryAfter,
    });
  return new AppError("ERR_ACCOUNT_LOCKED", {
    recoverUrl,
    lock: {
      reason: result.lock.reason,
      since: iso(result.lock.since),
      ...(result.lock.until ? { until: iso(result.lock.until) } : {}),
    },
  });
}

export async function accountsApi(
  app: FastifyInstance,
  opts: {
    accounts: AccountsService;
    apiToken: string | null;
    publicUrl: string;
    publicRateLimit: PublicRateLimit;
  },
) {
  const { accounts } = opts;
  const service = {
    onRequest: requireServiceToken(opts.apiToken),
    schema: { security: [{ serviceToken: [] }] },
  };

  app.post<{ Body: Static<typeof CreateAccountBody> }>(
    "/api/v1/accounts",
    {
      onRequest: service.onRequest,
      schema: {
        ...service.schema,
        tags: ["accounts"],
        summary: "Create an account in the built-in directory",
        body: CreateAccountBody,
        response: withErrors(
          { 201: Type.Object({ id: Type.String(), address: Type.String(), status: Type.String() }) },
          [400, 401, 409],
        ),
      },
    },
    async (request, reply) => {
      const view = await accounts.createAccount(request.body, "service");
      return reply.code(201).send({ id: view.id, address: view.address, status: view.status });
    },
  );

  app.get<{ Params: Static<typeof AddressParams> }>(
    "/api/v1/accounts/:address",
    {
      onRequest: service.onRequest,
      schema: {
        ...service.schema,
        tags: ["accounts"],
        summary: "An account's status, lock and masked alternates",
        params: AddressParams,
        response: withErrors({ 200: AccountBody }, [400, 401, 404]),
      },
    },
    async (request) => presentAccount(await accounts.viewByAddress(request.params.address)),
  );

  app.post<{ Params: Static<typeof AddressParams>; Body: Static<typeof LockBody> }>(
    "/api/v1/accounts/:address/lock",
    {
      onRequest: service.onRequest,
      schema: {
        ...service.schema,
        tags: ["accounts"],
        summary: "Lock an account",
        params: AddressParams,
        body: LockBody,
        response: withErrors(
          { 200: Type.Object({ status: Type.String(), lock: Type.Optional(Lock) }) },
          [400, 401, 404],
        ),
      },
    },
    async (request) => {
      const view = await accounts.lockAccount(
        request.params.address,
        request.body.reason,
        request.body.note ?? null,
        "service",
      );
      const { status, lock } = presentAccount(view);
      return { status, ...(lock ? { lock } : {}) };
    },
  );

  app.post<{ Body: Static<typeof EventBody> }>(
    "/api/v1/events",
    {
      onRequest: service.onRequest,
      schema: {
        ...service.schema,
        tags: ["accounts"],
        summary: "Security event from an integration (fed to the lock rules)",
        body: EventBody,
        response: withErrors({ 202: Type.Object({ accepted: Type.Boolean() }) }, [400, 401]),
      },
    },
    async (request, reply) => {
      await accounts.recordSecurityEvent(request.body, "integration");
      return reply.code(202).send({ accepted: true });
    },
  );

  app.get<{ Params: Static<typeof AddressParams> }>(
    "/api/v1/accounts/:address/audit",
    {
      onRequest: service.onRequest,
      schema: {
        ...service.schema,
        tags: ["accounts"],
        summary: "Audit log of an account, oldest first",
        params: AddressParams,
        response: withErrors(
          {
            200: Type.Object({
              events: Type.Array(
                Type.Object({
                  at: Type.String({ format: "date-time" }),
                  type: Type.String(),
                  actor: Type.String(),
                  detail: Type.Object({}, { additionalProperties: true }),
                }),
              ),
            }),
          },
          [400, 401, 404],
        ),
      },
    },
    async (request) => {
      const events = await accounts.auditOf(request.params.address);
      return { events: events.map((e) => ({ ...e, at: iso(e.at) })) };
    },
  );

  app.post<{ Body: Static<typeof SigninBody> }>(
    "/api/v1/signin",
    {
      config: { rateLimit: opts.publicRateLimit },
      schema: {
        tags: ["sign-in"],
        summary: "Sign in to the built-in directory",
        body: SigninBody,
        response: withErrors(
          { 200: Type.Object({ session: Type.String(), deviceId: Type.String() }) },
          [400, 401, 423, 429],
        ),
      },
    },
    async (request) => {
      const result = await accounts.signIn(
        request.body.address,
        request.body.password,
        request.body.deviceId,
        request.ip,
      );
      if (result.outcome === "signed_in") return { session: result.session, deviceId: result.deviceId };
      throw lockedError(result, opts.publicUrl, requestLocale(request));
    },
  );

  app.get(
    "/api/v1/session",
    {
      schema: {
        tags: ["sign-in"],
        summary: "The session of a bearer token",
        security: [{ session: [] }],
        response: withErrors(
          {
            200: Type.Object({
              accountId: Type.String(),
              address: Type.String(),
              expiresAt: Type.String({ format: "date-time" }),
            }),
          },
          [401],
        ),
      },
    },
    async (request) => {
      const token = bearerOf(request);
      const session = await accounts.sessionOf(token ?? "");
      return {
        accountId: session.accountId,
        address: session.address,
        expiresAt: iso(Number(session.expiresAt)),
      };
    },
  );

  app.delete(
    "/api/v1/session",
    {
      schema: {
        tags: ["sign-in"],
        summary: "Sign out: end the session of a bearer token",
        security: [{ session: [] }],
        response: withErrors({ 204: Type.Null() }, [401]),
      },
    },
    async (request, reply) => {
      await accounts.signOut(bearerOf(request) ?? "");
      return reply.code(204).send();
    },
  );
}
