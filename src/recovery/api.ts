import { type Static, type TSchema, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { sourceOf } from "../platform/caps.js";
import { explicitLocale, type PublicRateLimit } from "../web/http.js";
import { Email, LocaleParam, Password, withErrors } from "../web/schemas.js";
import type { RecoveryService } from "./service.js";

const RecoveryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const StartBody = Type.Object({ address: Email, locale: LocaleParam });
const ChannelBody = Type.Object({
  kind: Type.Union([Type.Literal("email"), Type.Literal("phone")]),
  value: Type.String({ minLength: 1, maxLength: 254 }),
});
const CodeBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 32 }) });
const Token = Type.String({ minLength: 1, maxLength: 100 });
const PasswordBody = Type.Object({
  password: Password,
  // Optional in the schema so that a missing token is the coded 403 of the contract, not a 400.
  passwordToken: Type.Optional(Type.String({ maxLength: 100 })),
  deviceId: Type.Optional(Type.String({ maxLength: 200 })),
});
const LinkBody = Type.Object({ token: Token });
const NoAccessBody = Type.Object({ contactEmail: Email });

const Next = <T extends string>(next: T, extra: Record<string, TSchema> = {}) =>
  Type.Object({ next: Type.Literal(next), ...extra });

export async function recoveryApi(
  app: FastifyInstance,
  opts: { recovery: RecoveryService; publicRateLimit: PublicRateLimit },
) {
  const { recovery } = opts;
  const config = { rateLimit: opts.publicRateLimit };
  const tags = ["recovery"];

  app.post<{ Body: Static<typeof StartBody> }>(
    "/api/v1/recovery",
    {
      config,
      schema: {
        tags,
        summary: "Start recovering an account (same answer whether or not it exists)",
        body: StartBody,
        response: withErrors(
          { 201: Type.Object({ recoveryId: Type.String(), next: Type.Literal("choose_channel") }) },
          [400, 429],
        ),
      },
    },
    async (request, reply) => {
      const { recoveryId } = await recovery.start(
        request.body.address,
        explicitLocale(request),
        request.headers["accept-language"] ?? null,
        sourceOf(request.ip),
      );
      return reply.code(201).send({ recoveryId, next: "choose_channel" });
    },
  );

  app.post<{ Params: Static<typeof RecoveryParams>; Body: Static<typeof ChannelBody> }>(
    "/api/v1/recovery/:id/channel",
    {
      config,
      schema: {
        tags,
        summary:
          "Type in full a backup address or number; a code goes there only if it is a verified alternate",
        params: RecoveryParams,
        body: ChannelBody,
        response: withErrors({ 202: Next("enter_code") }, [400, 404, 409, 429]),
      },
    },
    async (request, reply) => {
      await recovery.chooseChannel(request.params.id, request.body.kind, request.body.value);
      return reply.code(202).send({ next: "enter_code" });
    },
  );

  app.post<{ Params: Static<typeof RecoveryParams>; Body: Static<typeof CodeBody> }>(
    "/api/v1/recovery/:id/code",
    {
      config,
      schema: {
        tags,
        summary: "Confirm the one-time code; returns the one-time token the password step needs",
        params: RecoveryParams,
        body: CodeBody,
        response: withErrors(
          { 200: Next("set_password", { passwordToken: Type.String() }) },
          [400, 404, 409, 410, 429],
        ),
      },
    },
    async (request) => {
      const { passwordToken } = await recovery.confirmCode(request.params.id, request.body.code);
      return { next: "set_password", passwordToken };
    },
  );

  app.post<{ Body: Static<typeof LinkBody> }>(
    "/api/v1/recovery/link",
    {
      config,
      schema: {
        tags,
        summary: "Confirm the link of a code mail (its token); a GET of the link changes nothing",
        body: LinkBody,
        response: withErrors(
          {
            200: Next("set_password", { recoveryId: Type.String(), passwordToken: Type.String() }),
          },
          [400, 404, 409, 410, 429],
        ),
      },
    },
    async (request) => {
      const { recoveryId, passwordToken } = await recovery.confirmLink(request.body.token);
      return { recoveryId, next: "set_password", passwordToken };
    },
  );

  app.post<{ Params: Static<typeof RecoveryParams>; Body: Static<typeof PasswordBody> }>(
    "/api/v1/recovery/:id/password",
    {
      config,
      schema: {
        tags,
        summary: "Choose the new password; ends the recovery",
        params: RecoveryParams,
        body: PasswordBody,
        response: withErrors(
          { 200: Next("done", { caseRef: Type.Optional(Type.String()) }) },
          [400, 403, 404, 409, 410, 429],
        ),
      },
    },
    async (request) => {
      const { password, passwordToken, deviceId } = request.body;
      const { caseRef } = await recovery.setPassword(
        request.params.id,
        password,
        passwordToken ?? "",
        deviceId ?? null,
      );
      return { next: "done", ...(caseRef ? { caseRef } : {}) };
    },
  );

  app.post<{ Params: Static<typeof RecoveryParams>; Body: Static<typeof NoAccessBody> }>(
    "/api/v1/recovery/:id/no-access",
    {
      config,
      schema: {
        tags,
        summary: "I can't reach any of these: open a support case",
        params: RecoveryParams,
        body: NoAccessBody,
        response: withErrors({ 201: Next("case_opened", { caseRef: Type.String() }) }, [400, 404, 409, 429]),
      },
    },
    async (request, reply) => {
      const { caseRef } = await recovery.reportNoAccess(request.params.id, request.body.contactEmail);
      return reply.code(201).send({ next: "case_opened", caseRef });
    },
  );
}
