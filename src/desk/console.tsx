import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type AgentsService, agentPageGuard, type Viewer } from "../agents/guard.js";
import { AppError, isAppError } from "../platform/errors.js";
import { formatInstant, type MessageKey } from "../platform/i18n.js";
import { requestLocale } from "../web/http.js";
import { Alert, errorText, Form, Layout, type PageContext, pageContext, sendPage } from "../web/pages.js";
import { NO_DEADLINE, timelineType } from "./model.js";
import type { DeskService } from "./service.js";

type FormBody = Record<string, string | undefined>;

const viewerOf = (request: FastifyRequest): Viewer & { kind: "agent" } => {
  const viewer = request.viewer;
  if (viewer?.kind !== "agent") throw new AppError("ERR_UNAUTHORIZED");
  return viewer;
};

/** "2 h 05 min left" or "late by 40 min": the queue's clock, in minutes. */
function timeLeft(due: number, now: number): { late: boolean; minutes: number } {
  const minutes = Math.round((due - now) / 60_000);
  return { late: minutes < 0, minutes: Math.abs(minutes) };
}

const duration = (minutes: number) => {
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  return [days ? `${days} d` : "", hours ? `${hours} h` : "", `${rest} min`].filter(Boolean).join(" ");
};

/**
 * The agent console, server-rendered and usable without JavaScript: the queues of the agent's
 * teams (nearest deadline first, time left shown), a case with its whole timeline, and the actions
 * (reply, note, call, escalate, reassign, resolve). Every read and act is audited by the desk.
 */
export async function deskConsole(app: FastifyInstance, opts: { desk: DeskService; agents: AgentsService }) {
  const { desk } = opts;
  const guard = agentPageGuard(opts.agents);
  const ctxOf = (request: FastifyRequest, reply: FastifyReply) =>
    pageContext(request, requestLocale(request), reply.generateCsrf());
  const now = () => desk.now();

  const Nav = (props: { ctx: PageContext; viewer: Viewer & { kind: "agent" } }) => {
    const { t } = props.ctx;
    const teams = props.viewer.role === "agent" ? props.viewer.teams : desk.org.teams.map((team) => team.id);
    return (
      <nav aria-label={t("agent.home.teams")} class="card">
        <p class="meta">
          {t("agent.home.welcome", {
            name: props.viewer.name || props.viewer.email,
            role: t(`agent.role.${props.viewer.role}` as MessageKey),
          })}
        </p>
        <ul>
          {teams.map((id) => (
            <li key={id}>
              <a href={`/agent/teams/${id}`}>{desk.team(id).name}</a>
            </li>
          ))}
        </ul>
        <form method="get" action="/agent/search">
          <label for="q">{t("console.search")}</label>
          <input id="q" name="q" type="text" autocomplete="off" required />
          <button type="submit">{t("console.search.submit")}</button>
        </form>
        <Form ctx={props.ctx} action="/agent/signout">
          <button type="submit">{t("agent.signout")}</button>
        </Form>
      </nav>
    );
  };

  const QueuePage = (props: {
    ctx: PageContext;
    viewer: Viewer & { kind: "agent" };
    title: string;
    rows: Awaited<ReturnType<DeskService["queue"]>>["rows"];
  }) => {
    const { t, locale } = props.ctx;
    const at = now();
    return (
      <Layout ctx={props.ctx} title={props.title}>
        <h1>{props.title}</h1>
        <Nav ctx={props.ctx} viewer={props.viewer} />
        <section class="card" aria-labelledby="queue">
          <h2 id="queue">{t("console.queue")}</h2>
          {props.rows.length === 0 ? <p>{t("console.queue.empty")}</p> : null}
          <ul class="queue">
            {props.rows.map((row) => {
              const due = Number(row.next_due);
              const left = due < NO_DEADLINE ? timeLeft(due, at) : null;
              return (
                <li key={row.id}>
                  <a href={`/agent/cases/${row.ref}`} class="ref-link">
                    {row.ref}
                  </a>{" "}
                  {row.subject ? <span>{row.subject}</span> : null}
                  <div class="meta">
                    {t(`desk.status.state.${row.status}` as MessageKey)} ·{" "}
                    {t("console.tier", { tier: row.tier })} · {row.language}
                    {row.country ? `-${row.country}` : ""}
                  </div>
                  {left ? (
                    <div class={left.late ? "late" : "meta"}>
                      {left.late
                        ? t("console.late", { time: duration(left.minutes) })
                        : t("console.left", { time: duration(left.minutes) })}{" "}
                      ({formatInstant(due, locale)})
                    </div>
                  ) : null}
                </li>
              );
            })}
          </ul>
        </section>
      </Layout>
    );
  };

  // The console's home: the queue of the agent's first team (the others are one link away).
  app.get("/agent", { schema: { hide: true }, onRequest: guard }, async (request, reply) => {
    const viewer = viewerOf(request);
    const ctx = ctxOf(request, reply);
    const first = viewer.role === "agent" ? viewer.teams[0] : desk.org.teams[0]?.id;
    if (!first)
      return sendPage(
        reply,
        <QueuePage ctx={ctx} viewer={viewer} title={ctx.t("console.title")} rows={[]} />,
      );
    const { team, rows } = await desk.queue(viewer, first);
    return sendPage(reply, <QueuePage ctx={ctx} viewer={viewer} title={team.name} rows={rows} />);
  });

  app.get<{ Params: { team: string } }>(
    "/agent/teams/:team",
    { schema: { hide: true }, onRequest: guard },
    async (request, reply) => {
      const viewer = viewerOf(request);
      const { team, rows } = await desk.queue(viewer, request.params.team);
      const ctx = ctxOf(request, reply);
      return sendPage(reply, <QueuePage ctx={ctx} viewer={viewer} title={team.name} rows={rows} />);
    },
  );

  app.get<{ Querystring: { q?: string } }>(
    "/agent/search",
    { schema: { hide: true }, onRequest: guard },
    async (request, reply) => {
      const viewer = viewerOf(request);
      const q = String(request.query.q ?? "").slice(0, 254);
      const rows = q.trim() === "" ? [] : await desk.search(viewer, q);
      const ctx = ctxOf(request, reply);
      return sendPage(
        reply,
        <QueuePage ctx={ctx} viewer={viewer} title={ctx.t("console.search.results", { q })} rows={rows} />,
      );
    },
  );

  const CasePage = (props: {
    ctx: PageContext;
    viewer: Viewer & { kind: "agent" };
    detail: Awaited<ReturnType<DeskService["caseDetail"]>>;
    error?: string | null;
    notice?: string | null;
  }) => {
    const { t, locale } = props.ctx;
    const { row, events, contacts } = props.detail;
    const team = desk.team(row.team);
    const due = Number(row.next_due);
    const base = `/agent/cases/${row.ref}`;
    return (
      <Layout ctx={props.ctx} title={row.ref}>
        <h1 class="ref">{row.ref}</h1>
        <Alert message={props.error} />
        {props.notice ? (
          <p class="notice" role="status">
            {props.notice}
          </p>
        ) : null}
        <section class="card" aria-labelledby="case">
          <h2 id="case">{row.subject ?? t("console.case")}</h2>
          <dl>
            <dt>{t("desk.status.state")}</dt>
            <dd>{t(`desk.status.state.${row.status}` as MessageKey)}</dd>
            <dt>{t("desk.status.team")}</dt>
            <dd>
              {team.name} ({t("console.tier", { tier: row.tier })})
            </dd>
            <dt>{t("console.account")}</dt>
            <dd>{row.account_address}</dd>
            <dt>{t("console.language")}</dt>
            <dd>
              {row.language}
              {row.country ? ` · ${row.country}` : ""}
            </dd>
            <dt>{t("console.customer_clock")}</dt>
            <dd>{formatInstant(Number(row.first_attempt_at), locale, team.timeZone)}</dd>
            {due < NO_DEADLINE ? (
              <>
                <dt>{t("console.next_due")}</dt>
                <dd>{formatInstant(due, locale, team.timeZone)}</dd>
              </>
            ) : null}
            <dt>{t("console.contacts")}</dt>
            <dd>{[...contacts.map((c) => c.email), row.contact_phone].filter(Boolean).join(", ") || "-"}</dd>
          </dl>
        </section>
        <Nav ctx={props.ctx} viewer={props.viewer} />
        <section class="card actions" aria-labelledby="act">
          <h2 id="act">{t("console.actions")}</h2>
          <Form ctx={props.ctx} action={`${base}/reply`}>
            <label for="reply">{t("console.reply")}</label>
            <p id="reply-to" class="meta">
              {props.detail.replyTo
                ? t("console.reply.to", { to: props.detail.replyTo })
                : t("console.reply.nobody")}
            </p>
            <textarea id="reply" name="body" rows={5} required aria-describedby="reply-to" />
            <label class="check">
              <input type="checkbox" name="waitForCustomer" value="1" /> {t("console.wait")}
            </label>
            <button type="submit">{t("console.reply.submit")}</button>
          </Form>
          <Form ctx={props.ctx} action={`${base}/note`}>
            <label for="note">{t("console.note")}</label>
            <textarea id="note" name="body" rows={3} required />
            <button type="submit">{t("console.note.submit")}</button>
          </Form>
          <Form ctx={props.ctx} action={`${base}/call`}>
            <label for="call">{t("console.call")}</label>
            <textarea id="call" name="body" rows={3} required />
            <button type="submit">{t("console.call.submit")}</button>
          </Form>
          <Form ctx={props.ctx} action={`${base}/escalate`}>
            <label for="reason">{t("console.escalate")}</label>
            <input id="reason" name="reason" type="text" autocomplete="off" required />
            <button type="submit">{t("console.escalate.submit")}</button>
          </Form>
          {props.viewer.role !== "agent" ? (
            <Form ctx={props.ctx} action={`${base}/reassign`}>
              <label for="team">{t("console.reassign")}</label>
              <select id="team" name="team">
                {desk.org.teams.map((candidate) => (
                  <option key={candidate.id} value={candidate.id} selected={candidate.id === row.team}>
                    {candidate.name}
                  </option>
                ))}
              </select>
              <label for="why">{t("console.reassign.reason")}</label>
              <input id="why" name="reason" type="text" autocomplete="off" required />
              <button type="submit">{t("console.reassign.submit")}</button>
            </Form>
          ) : null}
          {row.status !== "resolved" ? (
            <Form ctx={props.ctx} action={`${base}/resolve`}>
              <button type="submit">{t("console.resolve")}</button>
            </Form>
          ) : null}
        </section>
        <section class="card" aria-labelledby="timeline">
          <h2 id="timeline">{t("console.timeline")}</h2>
          <ul class="timeline">
            {events.map((event) => {
              const detail = JSON.parse(event.detail) as Record<string, unknown>;
              const text = typeof detail.body === "string" ? detail.body : null;
              return (
                <li key={event.id}>
                  <strong>{formatInstant(Number(event.at), locale, team.timeZone)}</strong> ·{" "}
                  {timelineType(event.type)} · <span class="meta">{event.actor}</span>
                  {event.type === "message_in" && typeof detail.from === "string" ? (
                    <span class="meta"> · {t("console.from", { from: detail.from })}</span>
                  ) : null}
                  {typeof detail.reason === "string" ? <div class="meta">{detail.reason}</div> : null}
                  {typeof detail.deadline === "string" ? <div class="meta">{detail.deadline}</div> : null}
                  {text ? <p class="message">{text}</p> : null}
                </li>
              );
            })}
          </ul>
        </section>
      </Layout>
    );
  };

  const showCase = async (
    request: FastifyRequest,
    reply: FastifyReply,
    ref: string,
    extra: { error?: string | null; notice?: string | null; status?: number } = {},
  ) => {
    const viewer = viewerOf(request);
    const detail = await desk.caseDetail(viewer, ref);
    return sendPage(
      reply,
      <CasePage
        ctx={ctxOf(request, reply)}
        viewer={viewer}
        detail={detail}
        error={extra.error}
        notice={extra.notice}
      />,
      extra.status ?? 200,
    );
  };

  app.get<{ Params: { ref: string } }>(
    "/agent/cases/:ref",
    { schema: { hide: true }, onRequest: guard },
    async (request, reply) => showCase(request, reply, request.params.ref),
  );

  /** One action form: CSRF-checked, run, then the case page again with what happened. */
  const action = (
    name: string,
    run: (viewer: Viewer & { kind: "agent" }, ref: string, body: FormBody) => Promise<unknown>,
    done: MessageKey,
  ) =>
    app.post<{ Params: { ref: string }; Body: FormBody }>(
      `/agent/cases/:ref/${name}`,
      { schema: { hide: true }, onRequest: guard, preHandler: app.csrfProtection },
      async (request, reply) => {
        const ctx = ctxOf(request, reply);
        try {
          await run(viewerOf(request), request.params.ref, request.body ?? {});
        } catch (error) {
          if (
            !isAppError(error) ||
            error.statusCode >= 500 ||
            error.code === "ERR_FORBIDDEN" ||
            error.code === "ERR_CASE_NOT_FOUND"
          )
            throw error;
          return showCase(request, reply, request.params.ref, {
            error: errorText(ctx, error),
            status: error.statusCode,
          });
        }
        try {
          return await showCase(request, reply, request.params.ref, { notice: ctx.t(done) });
        } catch (error) {
          // Escalated or reassigned out of the agent's teams: done, and back to their queue.
          if (!isAppError(error) || error.code !== "ERR_FORBIDDEN") throw error;
          return sendPage(
            reply,
            <Layout ctx={ctx} title={ctx.t(done)}>
              <div class="card">
                <h1>{ctx.t(done)}</h1>
                <p>
                  <a href="/agent">{ctx.t("console.queue")}</a>
                </p>
              </div>
            </Layout>,
          );
        }
      },
    );
  const text = (body: FormBody, field: string, max = 20_000) => {
    const value = String(body[field] ?? "").trim();
    if (value === "" || value.length > max) throw new AppError("ERR_VALIDATION", { field });
    return value;
  };

  action(
    "reply",
    (viewer, ref, body) =>
      desk.addMessage(viewer, ref, {
        body: text(body, "body"),
        visibility: "public",
        waitForCustomer: body.waitForCustomer === "1",
      }),
    "console.done.reply",
  );
  action(
    "note",
    (viewer, ref, body) => desk.addMessage(viewer, ref, { body: text(body, "body"), visibility: "internal" }),
    "console.done.note",
  );
  action(
    "call",
    (viewer, ref, body) => desk.logCallOnCase(viewer, ref, text(body, "body")),
    "console.done.call",
  );
  action(
    "escalate",
    (viewer, ref, body) => desk.escalate(viewer, ref, text(body, "reason", 500)),
    "console.done.escalate",
  );
  action(
    "reassign",
    (viewer, ref, body) => desk.reassign(viewer, ref, text(body, "team", 64), text(body, "reason", 500)),
    "console.done.reassign",
  );
  action("resolve", (viewer, ref) => desk.resolve(viewer, ref), "console.done.resolve");
}
