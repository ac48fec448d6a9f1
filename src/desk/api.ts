import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type AgentsService, agentApiGuard, type Viewer } from "../agents/guard.js";
import { isoInstant } from "../platform/clock.js";
import { AppError } from "../platform/errors.js";
import type { PublicRateLimit } from "../web/http.js";
import { Email, withErrors } from "../web/schemas.js";
import { NO_DEADLINE } from "./model.js";
import type { DeskService } from "./service.js";

const Language = Type.String({
  minLength: 2,
  maxLength: 35,
  pattern: "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$",
});
const Country = Type.String({ pattern: "^[A-Za-z]{2}$" });
const CaseBody = Type.Object({
  contactEmail: Email,
  language: Language,
  country: Country,
  subject: Type.String({ minLength: 1, maxLength: 200 }),
  body: Type.String({ minLength: 1, maxLength: 20_000 }),
  address: Type.Optional(Email),
});
const CallBody = Type.Object({
  callerNumber: Type.String({ minLength: 3, maxLength: 32 }),
  language: Language,
  centre: Type.String({ minLength: 1, maxLength: 64 }),
});
const MessageBody = Type.Object({
  body: Type.String({ minLength: 1, maxLength: 20_000 }),
  visibility: Type.Union([Type.Literal("public"), Type.Literal("internal")]),
  waitForCustomer: Type.Optional(Type.Boolean()),
});
const EscalateBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) });
const RefParams = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 32 }) });
const TeamParams = Type.Object({ team: Type.String({ minLength: 1, maxLength: 64 }) });

const Instant = Type.String({ format: "date-time" });
const Due = Type.Object({
  firstResponse: Type.Optional(Instant),
  nextUpdate: Type.Optional(Instant),
  resolution: Type.Optional(Instant),
});
const CaseSummary = Type.Object({
  ref: Type.String(),
  status: Type.String(),
  tier: Type.Integer(),
  team: Type.String(),
  language: Type.String(),
  country: Type.Union([Type.String(), Type.Null()]),
  subject: Type.Union([Type.String(), Type.Null()]),
  customerClockStartedAt: Instant,
  nextDue: Type.Union([Instant, Type.Null()]),
  due: Due,
});
const CaseDetail = Type.Composite([
  CaseSummary,
  Type.Object({
    timeline: Type.Array(Type.Object({ at: Instant, type: Type.String() }, { additionalProperties: true })),
  }),
]);
const TeamView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  tier: Type.Integer(),
  languages: Type.Array(Type.String()),
  countries: Type.Array(Type.String()),
  email: Type.String(),
});

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const iso = (at: number | string | null | undefined) =>
  at === null || at === undefined || Number(at) >= NO_DEADLINE ? undefined : isoInstant(Number(at));

/** A case as the API shows it (presenter: nothing beyond the contract's fields and a few more). */
export const presentCase = (row: {
  ref: string;
  status: string;
  tier: number;
  team: string;
  language: string;
  country: string | null;
  subject: string | null;
  first_attempt_at: number | string;
  next_due: number | string | null;
  due_first_response: number | string | null;
  due_next_update: number | string | null;
  due_resolution: number | string | null;
}) => {
  const due: Record<string, string> = {};
  for (const [key, value] of [
    ["firstResponse", row.due_first_response],
    ["nextUpdate", row.due_next_update],
    ["resolution", row.due_resolution],
  ] as const) {
    const at = iso(value);
    if (at) due[key] = at;
  }
  return {
    ref: row.ref,
    status: row.status,
    tier: Number(row.tier),
    team: row.team,
    language: row.language,
    country: row.country,
    subject: row.subject,
    customerClockStartedAt: iso(row.first_attempt_at) as string,
    nextDue: row.status === "open" ? (iso(row.next_due) ?? null) : null,
    due,
  };
};

const viewerOf = (request: FastifyRequest): Viewer => {
  if (!request.viewer) throw new AppError("ERR_UNAUTHORIZED");
  return request.viewer;
};

/** The desk's JSON API: a fixed contract that tools outside the project rely on. */
export async function deskApi(
  app: FastifyInstance,
  opts: {
    desk: DeskService;
    agents: AgentsService;
    apiToken: string | null;
    publicRateLimit: PublicRateLimit;
  },
) {
  const { desk, agents } = opts;
  const tags = ["desk"];
  const agentOrService = agentApiGuard(agents, { allowService: true, apiToken: opts.apiToken });
  const agentOnly = agentApiGuard(agents, { allowService: false, apiToken: opts.apiToken });

  app.post<{ Body: Static<typeof CaseBody> }>(
    "/api/v1/cases",
    {
      config: { rateLimit: opts.publicRateLimit },
      schema: {
        tags,
        summary: "Open a support case (public web form); a case already open for that address is joined",
        body: CaseBody,
        response: withErrors(
          {
            201: Type.Object({
              ref: Type.String(),
              team: Type.String(),
              tier: Type.Integer(),
              status: Type.String(),
            }),
          },
          [400, 429],
        ),
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!EMAIL.test(body.contactEmail)) throw new AppError("ERR_VALIDATION", { field: "contactEmail" });
      if (body.address !== undefined && !EMAIL.test(body.address))
        throw new AppError("ERR_VALIDATION", { field: "address" });
      const opened = await desk.openFromWeb({ ...body, country: body.country.toUpperCase() }, "web");
      return reply.code(201).send(opened);
    },
  );

  app.post<{ Body: Static<typeof CallBody> }>(
    "/api/v1/calls",
    {
      // The phone system's: the service token only (an agent logs a call on a case from the console).
      onRequest: agentApiGuard(agents, { allowService: true, apiToken: opts.apiToken, roles: [] }),
      schema: {
        tags,
        summary: "A call from the phone system: logged on the caller's open case, or a new one",
        security: [{ serviceToken: [] }],
        body: CallBody,
        response: withErrors(
          { 201: Type.Object({ callId: Type.String(), caseRef: Type.String() }) },
          [400, 401, 404],
        ),
      },
    },
    async (request, reply) => reply.code(201).send(await desk.logCall(request.body, { kind: "service" })),
  );

  app.get(
    "/api/v1/teams",
    {
      onRequest: agentOrService,
      schema: {
        tags,
        summary: "The teams of the organisation",
        security: [{ serviceToken: [] }, { agentToken: [] }],
        response: withErrors({ 200: Type.Object({ teams: Type.Array(TeamView) }) }, [401]),
      },
    },
    async () => ({
      teams: desk.org.teams.map((team) => ({
        id: team.id,
        name: team.name,
        tier: team.tier,
        languages: team.languages,
        countries: team.countries === "any" ? [] : team.countries,
        email: team.email,
      })),
    }),
  );

  app.get<{ Params: Static<typeof TeamParams> }>(
    "/api/v1/teams/:team/queue",
    {
      onRequest: agentOrService,
      schema: {
        tags,
        summary: "A team's open cases, nearest deadline first",
        security: [{ agentToken: [] }, { serviceToken: [] }],
        params: TeamParams,
        response: withErrors({ 200: Type.Object({ cases: Type.Array(CaseSummary) }) }, [401, 403, 404]),
      },
    },
    async (request) => {
      const { rows } = await desk.queue(viewerOf(request), request.params.team);
      return { cases: rows.map(presentCase) };
    },
  );

  app.get<{ Params: Static<typeof RefParams> }>(
    "/api/v1/cases/:ref",
    {
      onRequest: agentOrService,
      schema: {
        tags,
        summary: "A case with its timeline",
        security: [{ agentToken: [] }, { serviceToken: [] }],
        params: RefParams,
        response: withErrors({ 200: CaseDetail }, [401, 403, 404]),
      },
    },
    async (request) => {
      const { row, events } = await desk.caseDetail(viewerOf(request), request.params.ref);
      return { ...presentCase(row), timeline: desk.timeline(events) };
    },
  );

  app.post<{ Params: Static<typeof RefParams>; Body: Static<typeof MessageBody> }>(
    "/api/v1/cases/:ref/messages",
    {
      onRequest: agentOnly,
      schema: {
        tags,
        summary: "Reply to the customer (public, mailed) or add an internal note",
        security: [{ agentToken: [] }],
        params: RefParams,
        body: MessageBody,
        response: withErrors({ 201: Type.Object({ id: Type.String() }) }, [400, 401, 403, 404, 409]),
      },
    },
    async (request, reply) =>
      reply.code(201).send(await desk.addMessage(viewerOf(request), request.params.ref, request.body)),
  );

  app.post<{ Params: Static<typeof RefParams>; Body: Static<typeof EscalateBody> }>(
    "/api/v1/cases/:ref/escalate",
    {
      onRequest: agentOnly,
      schema: {
        tags,
        summary: "Raise the case one tier, with a reason",
        security: [{ agentToken: [] }],
        params: RefParams,
        body: EscalateBody,
        response: withErrors(
          { 200: Type.Object({ tier: Type.Integer(), team: Type.String() }) },
          [400, 401, 403, 404, 409],
        ),
      },
    },
    async (request) => desk.escalate(viewerOf(request), request.params.ref, request.body.reason),
  );

  app.post<{ Params: Static<typeof RefParams> }>(
    "/api/v1/cases/:ref/resolve",
    {
      onRequest: agentOnly,
      schema: {
        tags,
        summary: "Resolve the case (a satisfaction survey follows a day later)",
        security: [{ agentToken: [] }],
        params: RefParams,
        response: withErrors(
          { 200: Type.Object({ status: Type.Literal("resolved") }) },
          [401, 403, 404, 409],
        ),
      },
    },
    async (request) => desk.resolve(viewerOf(request), request.params.ref),
  );
}
