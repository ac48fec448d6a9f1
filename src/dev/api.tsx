import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { recentMessages } from "../messaging/outbox.js";
import { ManualClock } from "../platform/clock.js";
import type { Platform } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { formatInstant } from "../platform/i18n.js";
import { requestLocale, requireServiceToken } from "../web/http.js";
import { Layout, pageContext, sendPage } from "../web/pages.js";
import { withErrors } from "../web/schemas.js";

const ClockBody = Type.Object({
  advanceMs: Type.Integer({ minimum: 0, maximum: 10 * 365 * 24 * 3600 * 1000 }),
});

/** Rounds of firing after a clock move: each round may set timers already due (one per tier). */
const MAX_CLOCK_ROUNDS = 20;

// Links in captured messages become clickable, so the demo can follow a recovery mail.
const URL_PATTERN = /(https?:\/\/[^\s]+)/g;
const Linkified = (props: { text: string }) => (
  <pre>
    {props.text.split(URL_PATTERN).map((part, i) => (i % 2 === 1 ? <a href={part}>{part}</a> : part))}
  </pre>
);

/** Development aids: the settable clock and the mailbox of captured messages. Neither exists in production. */
export async function devApi(
  app: FastifyInstance,
  opts: { platform: Platform; apiToken: string | null; capturedChannels: Array<"email" | "sms"> },
) {
  const { platform } = opts;

  app.post<{ Body: Static<typeof ClockBody> }>(
    "/api/v1/dev/clock",
    {
      onRequest: requireServiceToken(opts.apiToken),
      schema: {
        tags: ["development"],
        summary: "Move the manual clock forward (SESAME_CLOCK=manual only)",
        security: [{ serviceToken: [] }],
        body: ClockBody,
        response: withErrors(
          { 200: Type.Object({ now: Type.String({ format: "date-time" }) }) },
          [400, 401, 403],
        ),
      },
    },
    async (request) => {
      if (!(platform.clock instanceof ManualClock) || platform.config.production)
        throw new AppError("ERR_CLOCK_NOT_MANUAL");
      const now = platform.clock.advance(request.body.advanceMs);
      // Whatever came due at the new instant has fired when this answers (a test or a demo reads the
      // result at once), including timers set by those that fired (a jump over several deadlines).
      for (let round = 0; round < MAX_CLOCK_ROUNDS && (await platform.timers.runDue(now)) > 0; round++);
      platform.wakeOutbox();
      platform.wakeTimers();
      return { now: new Date(now).toISOString() };
    },
  );

  if (!app.devMailbox) return;

  app.get("/dev/mailbox", { schema: { hide: true } }, async (request, reply) => {
    const ctx = pageContext(request, requestLocale(request));
    const { t, locale } = ctx;
    const messages = await recentMessages(platform.db, platform.secrets, opts.capturedChannels);
    return sendPage(
      reply,
      <Layout ctx={ctx} title={t("dev.mailbox.title")}>
        <h1>{t("dev.mailbox.title")}</h1>
        <p>{t("dev.mailbox.intro")}</p>
        {messages.length === 0 ? (
          <p>{t("dev.mailbox.empty")}</p>
        ) : (
          messages.map((m) => (
            <article class="card" key={m.id}>
              <table>
                <tbody>
                  <tr>
                    <th scope="row">{t("dev.mailbox.channel")}</th>
                    <td>
                      {t(m.channel === "email" ? "recover.channel.kind.email" : "recover.channel.kind.phone")}
                    </td>
                  </tr>
                  <tr>
                    <th scope="row">{t("dev.mailbox.to")}</th>
                    <td class="recipient">{m.recipient}</td>
                  </tr>
                  <tr>
                    <th scope="row">{t("dev.mailbox.at")}</th>
                    <td>{formatInstant(Number(m.created_at), locale)}</td>
                  </tr>
                </tbody>
              </table>
              {m.subject ? <h2>{m.subject}</h2> : null}
              <Linkified text={m.body} />
            </article>
          ))
        )}
      </Layout>,
    );
  });
}
