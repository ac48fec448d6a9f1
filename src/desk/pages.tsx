import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DAY_NAMES, describeHours } from "../org/model.js";
import { contactOptions } from "../org/routing.js";
import { AppError, isAppError } from "../platform/errors.js";
import { formatInstant, type MessageKey } from "../platform/i18n.js";
import { freshFormOnCsrfFailure } from "../web/forms.js";
import { type PublicRateLimit, requestLocale } from "../web/http.js";
import {
  Alert,
  errorText,
  Field,
  Form,
  Layout,
  type PageContext,
  pageContext,
  sendPage,
} from "../web/pages.js";
import type { DeskService } from "./service.js";

type FormBody = Record<string, string | undefined>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** 2024-01-01 was a Monday: the weekday names of the visitor's language. */
const weekday = (locale: string, index: number) =>
  new Intl.DateTimeFormat(locale, { weekday: "short", timeZone: "UTC" }).format(Date.UTC(2024, 0, 1 + index));

/** A team's opening hours in the visitor's language: "lun.-sam. 08:00-20:00". */
const localHours = (desk: DeskService, teamId: string, locale: string) =>
  describeHours(desk.team(teamId).hours, (day) => weekday(locale, DAY_NAMES.indexOf(day)));

/** "Europe/Brussels" -> "Brussels", "America/Los_Angeles" -> "Los Angeles". */
const city = (zone: string) => (zone.split("/").at(-1) ?? zone).replaceAll("_", " ");

/** Where the visitor can reach a person: phones with opening hours, and the country team's address. */
export function ContactOptions(props: { ctx: PageContext; desk: DeskService; country: string | null }) {
  const { t, locale } = props.ctx;
  const options = contactOptions(props.desk.org, locale, props.country);
  if (options.phones.length === 0 && !options.email) return null;
  return (
    <section class="card" aria-labelledby="contact-options">
      <h2 id="contact-options">{t("desk.options.title")}</h2>
      <ul>
        {options.phones.map((phone) => (
          <li key={phone.number}>
            {t("desk.options.phone", { team: phone.teamName, number: phone.number })} (
            {t("desk.options.hours", {
              hours: localHours(props.desk, phone.teamId, locale),
              zone: city(phone.timeZone),
            })}
            )
          </li>
        ))}
        {options.email ? (
          <li>
            {t("desk.options.email", { team: options.teams.at(-1)?.name ?? "", email: "" })}
            <a href={`mailto:${options.email}`}>{options.email}</a>
          </li>
        ) : null}
      </ul>
    </section>
  );
}

/** The country a visitor is in, as far as the page knows: the form, else the language's region tag. */
export const countryOf = (request: FastifyRequest): string | null => {
  const query = request.query as Record<string, unknown> | undefined;
  const body = request.body as Record<string, unknown> | undefined;
  const given = [body?.country, query?.country].find(
    (v): v is string => typeof v === "string" && /^[A-Za-z]{2}$/.test(v),
  );
  if (given) return given.toUpperCase();
  const region = /^[a-z]{2,3}-([A-Z]{2})/i.exec(request.headers["accept-language"] ?? "")?.[1];
  return region ? region.toUpperCase() : null;
};

/**
 * The customer's side of the desk: the contact form, a case's status page per contact (its token,
 * from that contact's mail, is the only key: the reference alone shows nothing), and the survey.
 */
export async function deskPages(
  app: FastifyInstance,
  opts: { desk: DeskService; publicRateLimit: PublicRateLimit },
) {
  const { desk } = opts;
  const config = { rateLimit: opts.publicRateLimit };
  const ctxOf = (request: FastifyRequest, reply: FastifyReply, locale = requestLocale(request)) =>
    pageContext(request, locale, reply.generateCsrf());
  const post = (renew: (ctx: PageContext, request: FastifyRequest) => preact.VNode) => ({
    schema: { hide: true },
    config,
    preHandler: freshFormOnCsrfFailure(app, (request, reply) =>
      sendPage(reply, renew(ctxOf(request, reply), request), 403),
    ),
  });

  const ContactPage = (props: {
    ctx: PageContext;
    values?: FormBody;
    error?: string | null;
    country: string | null;
  }) => {
    const { t } = props.ctx;
    const v = props.values ?? {};
    return (
      <Layout ctx={props.ctx} title={t("desk.contact.title")}>
        <div class="card">
          <h1>{t("desk.contact.title")}</h1>
          <p>{t("desk.contact.intro")}</p>
          <Alert message={props.error} />
          <Form ctx={props.ctx} action="/contact">
            <Field
              name="contactEmail"
              label={t("desk.contact.email")}
              type="email"
              autocomplete="email"
              value={v.contactEmail}
            />
            <label for="address">{t("desk.contact.address")}</label>
            <input id="address" name="address" type="email" autocomplete="off" value={v.address ?? ""} />
            <label for="country">{t("desk.contact.country")}</label>
            <input
              id="country"
              name="country"
              type="text"
              autocomplete="country"
              maxLength={2}
              required
              value={v.country ?? props.country ?? ""}
            />
            <Field
              name="subject"
              label={t("desk.contact.subject")}
              type="text"
              autocomplete="off"
              value={v.subject}
            />
            <label for="body">{t("desk.contact.body")}</label>
            <textarea id="body" name="body" required rows={6}>
              {v.body ?? ""}
            </textarea>
            <button type="submit">{t("desk.contact.submit")}</button>
          </Form>
        </div>
        <ContactOptions ctx={props.ctx} desk={desk} country={props.country} />
      </Layout>
    );
  };

  app.get("/contact", { schema: { hide: true } }, async (request, reply) =>
    sendPage(reply, <ContactPage ctx={ctxOf(request, reply)} country={countryOf(request)} />),
  );

  app.post<{ Body: FormBody }>(
    "/contact",
    post((ctx, request) => (
      <ContactPage ctx={ctx} values={request.body as FormBody} country={countryOf(request)} />
    )),
    async (request, reply) => {
      const ctx = ctxOf(request, reply);
      const body = request.body ?? {};
      const values = {
        contactEmail: (body.contactEmail ?? "").trim(),
        address: (body.address ?? "").trim(),
        country: (body.country ?? "").trim().toUpperCase(),
        subject: (body.subject ?? "").trim(),
        body: (body.body ?? "").trim(),
      };
      const invalid =
        !EMAIL.test(values.contactEmail) ||
        (values.address !== "" && !EMAIL.test(values.address)) ||
        !/^[A-Z]{2}$/.test(values.country) ||
        values.subject === "" ||
        values.subject.length > 200 ||
        values.body === "" ||
        values.body.length > 20_000;
      const page = (error: string) => (
        <ContactPage ctx={ctx} values={values} error={error} country={countryOf(request)} />
      );
      if (invalid) return sendPage(reply, page(errorText(ctx, new AppError("ERR_VALIDATION"))), 400);
      try {
        const opened = await desk.openFromWeb(
          {
            contactEmail: values.contactEmail,
            address: values.address || undefined,
            language: ctx.locale,
            country: values.country,
            subject: values.subject,
            body: values.body,
          },
          "web",
        );
        const team = desk.team(opened.team);
        const due = await desk.nextDueOf(opened.ref);
        const { t } = ctx;
        return sendPage(
          reply,
          <Layout ctx={ctx} title={t("desk.contact.sent.title")}>
            <div class="card" role="status">
              <h1>{t("desk.contact.sent.title")}</h1>
              <p>
                {due
                  ? t("desk.contact.sent.body", {
                      ref: opened.ref,
                      team: team.name,
                      due: desk.plainDue(due, ctx.locale, values.country),
                    })
                  : t("desk.contact.sent.nodue", { ref: opened.ref, team: team.name })}
              </p>
            </div>
            <ContactOptions ctx={ctx} desk={desk} country={values.country} />
          </Layout>,
          201,
        );
      } catch (error) {
        if (!isAppError(error) || error.statusCode >= 500) throw error;
        return sendPage(reply, page(errorText(ctx, error)), error.statusCode);
      }
    },
  );

  const StatusPage = (props: {
    ctx: PageContext;
    token: string;
    notice?: string | null;
    status: NonNullable<Awaited<ReturnType<DeskService["cases"]["statusForToken"]>>>;
  }) => {
    const { t, locale } = props.ctx;
    const status = props.status;
    const team = desk.org.teams.find((candidate) => candidate.id === status.team);
    // The language links lead to this same page, token included (the mail's link carried it).
    const ctx = { ...props.ctx, path: `/cases/${status.ref}`, keep: { token: props.token } };
    return (
      <Layout ctx={ctx} title={t("cases.status.title")}>
        <div class="card">
          <h1>{t("cases.status.title")}</h1>
          <p class="ref">{t("recover.case.ref", { ref: status.ref })}</p>
          {props.notice ? <p role="status">{props.notice}</p> : null}
          <dl>
            <dt>{t("desk.status.state")}</dt>
            <dd>{t(`desk.status.state.${status.status}` as MessageKey)}</dd>
            {team ? (
              <>
                <dt>{t("desk.status.team")}</dt>
                <dd>{team.name}</dd>
              </>
            ) : null}
          </dl>
          {status.dueAt ? (
            <p>{t("desk.status.due", { due: desk.plainDue(status.dueAt, locale, status.country) })}</p>
          ) : null}
          <h2>{t("cases.status.written")}</h2>
          {status.messages.length === 0 ? (
            <p>{t("cases.status.none")}</p>
          ) : (
            <ul class="timeline">
              {status.messages.map((m) => (
                <li key={`${m.at}-${m.subjectKey}`}>
                  <strong>{formatInstant(m.at, locale)}</strong>: {t(m.subjectKey, m.params)}
                  {m.params.body ? <p class="message">{m.params.body}</p> : null}
                </li>
              ))}
            </ul>
          )}
          <Form ctx={props.ctx} action={`/cases/${status.ref}/reply`}>
            <input type="hidden" name="token" value={props.token} />
            <label for="body">{t("desk.status.reply.label")}</label>
            <textarea id="body" name="body" required rows={5} />
            <button type="submit">{t("desk.status.reply.submit")}</button>
          </Form>
        </div>
      </Layout>
    );
  };

  const statusOr404 = async (ref: string, token: string) => {
    const status = await desk.cases.statusForToken(token);
    if (!status || status.ref !== ref.trim().toUpperCase()) throw new AppError("ERR_NOT_FOUND");
    return status;
  };

  // The old link form (/cases/status?token=) still works: mails already sent carry it.
  app.get<{ Querystring: { token?: string } }>(
    "/cases/status",
    { schema: { hide: true } },
    async (request, reply) => {
      const token = String(request.query.token ?? "");
      const status = await desk.cases.statusForToken(token);
      if (!status) throw new AppError("ERR_NOT_FOUND");
      return sendPage(
        reply,
        <StatusPage
          ctx={ctxOf(request, reply, requestLocale(request, status.locale))}
          token={token}
          status={status}
        />,
      );
    },
  );

  app.get<{ Params: { ref: string }; Querystring: { token?: string } }>(
    "/cases/:ref",
    { schema: { hide: true } },
    async (request, reply) => {
      const token = String(request.query.token ?? "");
      const status = await statusOr404(request.params.ref, token);
      const ctx = ctxOf(request, reply, requestLocale(request, status.locale));
      return sendPage(reply, <StatusPage ctx={ctx} token={token} status={status} />);
    },
  );

  app.post<{ Params: { ref: string }; Body: FormBody }>(
    "/cases/:ref/reply",
    {
      schema: { hide: true },
      config,
      preHandler: app.csrfProtection,
    },
    async (request, reply) => {
      const token = String(request.body?.token ?? "");
      const text = String(request.body?.body ?? "").trim();
      const status = await statusOr404(request.params.ref, token);
      const ctx = ctxOf(request, reply, requestLocale(request, status.locale));
      if (text === "" || text.length > 20_000)
        return sendPage(
          reply,
          <StatusPage
            ctx={ctx}
            token={token}
            status={status}
            notice={errorText(ctx, new AppError("ERR_VALIDATION"))}
          />,
          400,
        );
      await desk.replyFromStatusPage(request.params.ref, token, text);
      const after = await statusOr404(request.params.ref, token);
      return sendPage(
        reply,
        <StatusPage ctx={ctx} token={token} status={after} notice={ctx.t("desk.status.reply.sent")} />,
      );
    },
  );

  const SurveyPage = (props: { ctx: PageContext; token: string; done?: "thanks" | "spent" }) => {
    const { t } = props.ctx;
    const ctx = { ...props.ctx, path: "/survey", keep: { token: props.token } };
    return (
      <Layout ctx={ctx} title={t("desk.survey.title")}>
        <div class="card">
          <h1>{t("desk.survey.title")}</h1>
          {props.done ? (
            <p role="status">{t(props.done === "thanks" ? "desk.survey.thanks" : "desk.survey.spent")}</p>
          ) : (
            <Form ctx={props.ctx} action="/survey">
              <input type="hidden" name="token" value={props.token} />
              <fieldset>
                <legend>{t("desk.survey.score")}</legend>
                {[1, 2, 3, 4, 5].map((score) => (
                  <label key={score} class="choice">
                    <input type="radio" name="score" value={String(score)} required /> {score}
                  </label>
                ))}
              </fieldset>
              <label for="comment">{t("desk.survey.comment")}</label>
              <textarea id="comment" name="comment" rows={4} />
              <button type="submit">{t("desk.survey.submit")}</button>
            </Form>
          )}
        </div>
      </Layout>
    );
  };

  app.get<{ Querystring: { token?: string } }>(
    "/survey",
    { schema: { hide: true } },
    async (request, reply) => {
      const token = String(request.query.token ?? "");
      const found = await desk.surveyFor(token);
      if (!found) throw new AppError("ERR_NOT_FOUND");
      const ctx = ctxOf(request, reply, requestLocale(request, found.locale));
      return sendPage(
        reply,
        <SurveyPage
          ctx={ctx}
          token={token}
          {...(found.survey.answered_at !== null ? { done: "spent" as const } : {})}
        />,
        found.survey.answered_at !== null ? 410 : 200,
      );
    },
  );

  app.post<{ Body: FormBody }>(
    "/survey",
    { schema: { hide: true }, config, preHandler: app.csrfProtection },
    async (request, reply) => {
      const token = String(request.body?.token ?? "");
      const score = Number(request.body?.score);
      const comment =
        String(request.body?.comment ?? "")
          .trim()
          .slice(0, 2000) || null;
      const found = await desk.surveyFor(token);
      if (!found) throw new AppError("ERR_NOT_FOUND");
      const ctx = ctxOf(request, reply, requestLocale(request, found.locale));
      if (!Number.isInteger(score) || score < 1 || score > 5)
        return sendPage(reply, <SurveyPage ctx={ctx} token={token} />, 400);
      const answered = await desk.answerSurvey(token, score, comment);
      return sendPage(
        reply,
        <SurveyPage ctx={ctx} token={token} done={answered ? "thanks" : "spent"} />,
        answered ? 200 : 410,
      );
    },
  );
}
