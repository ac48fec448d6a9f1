import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ContactOptions } from "../desk/pages.js";
import type { DeskService } from "../desk/service.js";
import { sourceOf } from "../platform/caps.js";
import { type AppError, isAppError } from "../platform/errors.js";
import type { MessageKey } from "../platform/i18n.js";
import { freshFormOnCsrfFailure } from "../web/forms.js";
import { DEVICE_COOKIE, explicitLocale, type PublicRateLimit, requestLocale } from "../web/http.js";
import {
  Alert,
  Field,
  Form,
  Layout,
  type PageContext,
  pageContext,
  sendPage,
  errorText as sharedErrorText,
} from "../web/pages.js";
import type { RecoveryService, RecoveryView } from "./service.js";

type Params = { id: string };
type NoParams = Record<string, never>;
type FormBody = Record<string, string | undefined>;

/** The cookie that carries the password token between the code step and the password step. */
const PASSWORD_TOKEN_COOKIE = "sesame_recovery";

/** A coded error's text on the recovery pages, where some messages show an example address. */
const errorText = (ctx: PageContext, error: AppError) =>
  sharedErrorText(ctx, error, { example: ctx.t("recover.example.address") });

const field = (body: FormBody | undefined, name: string, max = 254) =>
  String(body?.[name] ?? "").slice(0, max);

/** An address field's own message, before any use-case runs: what is expected, in the page's language. */
const addressProblem = (value: string, empty: MessageKey): MessageKey | null =>
  value.trim() === "" ? empty : value.includes("@") ? null : "error.ERR_ADDRESS_INCOMPLETE";

const NoAccessLink = (props: { ctx: PageContext; id?: string }) => (
  <p class="secondary">
    <a
      href={
        props.id
          ? `/recover/${props.id}/no-access?lang=${props.ctx.locale}`
          : `/recover/no-access?lang=${props.ctx.locale}`
      }
    >
      {props.ctx.t("recover.channel.noaccess")}
    </a>
  </p>
);

function StartPage(props: { ctx: PageContext; address?: string; error?: string | null; capped?: boolean }) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("recover.start.title")}>
      <div class="card">
        <h1>{t("recover.start.title")}</h1>
        <p>{t("recover.start.intro")}</p>
        <Alert message={props.error} />
        <Form ctx={props.ctx} action="/recover">
          <Field
            name="address"
            type="email"
            autocomplete="username"
            label={t("recover.start.address")}
            value={props.address}
            error={props.error}
          />
          <button type="submit">{t("recover.start.submit")}</button>
        </Form>
        {props.capped ? <NoAccessLink ctx={props.ctx} /> : null}
      </div>
    </Layout>
  );
}

function ChannelPage(props: { ctx: PageContext; id: string; value?: string; error?: string | null }) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("recover.channel.title")}>
      <div class="card">
        <h1>{t("recover.channel.title")}</h1>
        <p>{t("recover.channel.intro")}</p>
        <Alert message={props.error} />
        <Form ctx={props.ctx} action={`/recover/${props.id}/channel`}>
          <Field
            name="value"
            type="text"
            autocomplete="off"
            label={t("recover.channel.value")}
            hint={`${t("recover.channel.email.hint")} ${t("recover.channel.phone.hint")}`}
            value={props.value}
            error={props.error}
          />
          <button type="submit">{t("recover.channel.submit")}</button>
        </Form>
        <NoAccessLink ctx={props.ctx} id={props.id} />
      </div>
    </Layout>
  );
}

function CodePage(props: { ctx: PageContext; view: RecoveryView; error?: string | null }) {
  const { t, locale } = props.ctx;
  const id = props.view.id;
  return (
    <Layout ctx={props.ctx} title={t("recover.code.title")}>
      <div class="card">
        <h1>{t("recover.code.title")}</h1>
        <p>{t("recover.code.intro")}</p>
        {props.view.code?.destination ? (
          <p>{t("recover.code.sentto", { destination: props.view.code.destination })}</p>
        ) : null}
        <Alert message={props.error} />
        <Form ctx={props.ctx} action={`/recover/${id}/code`}>
          <Field
            name="code"
            type="text"
            class="code"
            numeric
            autocomplete="one-time-code"
            label={t("recover.code.label")}
            error={props.error}
          />
          <button type="submit">{t("recover.code.submit")}</button>
        </Form>
        <p class="secondary">
          <a href={`/recover/${id}/channel?lang=${locale}`}>{t("recover.code.resend")}</a>
        </p>
        <NoAccessLink ctx={props.ctx} id={id} />
      </div>
    </Layout>
  );
}

/** The page behind the mail's link: a confirmation form only, so a mail scanner opening it spends nothing. */
function LinkPage(props: { ctx: PageContext; token: string; error?: string | null }) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("recover.link.title")}>
      <div class="card">
        <h1>{t("recover.link.title")}</h1>
        <p>{t("recover.link.intro")}</p>
        <Alert message={props.error} />
        <Form ctx={props.ctx} action="/recover/link">
          <input type="hidden" name="token" value={props.token} />
          <button type="submit">{t("recover.link.submit")}</button>
        </Form>
      </div>
    </Layout>
  );
}

function PasswordPage(props: {
  ctx: PageContext;
  id: string;
  caseRef?: string | null;
  error?: string | null;
}) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("recover.password.title")}>
      <div class="card">
        <h1>{t("recover.password.title")}</h1>
        <p>{t("recover.password.intro")}</p>
        {props.caseRef ? <p class="notice">{t("recover.password.case", { ref: props.caseRef })}</p> : null}
        <Alert message={props.error} />
        <Form ctx={props.ctx} action={`/recover/${props.id}/password`}>
          <Field
            name="password"
            type="password"
            autocomplete="new-password"
            label={t("recover.password.label")}
            hint={t("recover.password.deadline")}
            error={props.error}
          />
          <Field
            name="confirmation"
            type="password"
            autocomplete="new-password"
            label={t("recover.password.confirm")}
          />
          <button type="submit">{t("recover.password.submit")}</button>
        </Form>
        <p class="secondary">
          <a href={`/recover/${props.id}/channel?lang=${props.ctx.locale}`}>{t("recover.code.resend")}</a>
        </p>
      </div>
    </Layout>
  );
}

function DonePage(props: { ctx: PageContext; view: RecoveryView }) {
  const { t, locale } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("recover.done.title")}>
      <div class="card">
        <h1>{t("recover.done.title")}</h1>
        <p class="notice">
          {props.view.caseRef ? t("recover.done.held", { ref: props.view.caseRef }) : t("recover.done.body")}
        </p>
        <a class="button" href={`/signin?lang=${locale}`}>
          {t("recover.done.signin")}
        </a>
      </div>
    </Layout>
  );
}

function NoAccessPage(props: {
  ctx: PageContext;
  /** Without a recovery (its start was capped), the page also asks for the account's address. */
  id?: string;
  address?: string;
  contact?: string;
  error?: string | null;
}) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("recover.noaccess.title")}>
      <div class="card">
        <h1>{t("recover.noaccess.title")}</h1>
        <p>{t("recover.noaccess.intro")}</p>
        <Alert message={props.error} />
        <Form ctx={props.ctx} action={props.id ? `/recover/${props.id}/no-access` : "/recover/no-access"}>
          {props.id ? null : (
            <Field
              name="address"
              type="email"
              autocomplete="username"
              label={t("recover.start.address")}
              value={props.address}
            />
          )}
          <Field
            name="contactEmail"
            type="email"
            autocomplete="email"
            label={t("recover.noaccess.contact")}
            value={props.contact}
            error={props.error}
          />
          <button type="submit">{t("recover.noaccess.submit")}</button>
        </Form>
      </div>
    </Layout>
  );
}

function CasePage(props: {
  ctx: PageContext;
  view: RecoveryView;
  desk: DeskService;
  summary: Awaited<ReturnType<DeskService["publicSummary"]>>;
}) {
  const { t, locale } = props.ctx;
  const { caseRef, contactMasked } = props.view;
  const { summary } = props;
  return (
    <Layout ctx={props.ctx} title={t("recover.case.title")}>
      <div class="card">
        <h1>{t("recover.case.title")}</h1>
        <p class="ref">{t("recover.case.ref", { ref: caseRef ?? "" })}</p>
        <p>
          {summary?.due
            ? t("recover.case.by", {
                team: summary.team.name,
                contact: contactMasked ?? "",
                due: props.desk.plainDue(summary.due, locale, summary.country),
              })
            : t("recover.case.when", { contact: contactMasked ?? "" })}
        </p>
        <p>{t("recover.case.meanwhile")}</p>
      </div>
      <ContactOptions ctx={props.ctx} desk={props.desk} country={summary?.country ?? null} />
    </Layout>
  );
}

/** Where a recovery in this state continues. */
const stepPath: Record<RecoveryView["state"], string> = {
  choose_channel: "channel",
  enter_code: "code",
  set_password: "password",
  done: "done",
};

/**
 * The recovery journey in the browser, without JavaScript: each step a form, each POST a redirect.
 * Handlers send exactly one answer: a use-case's coded error re-renders the form and stops there.
 */
export async function recoveryPages(
  app: FastifyInstance,
  opts: {
    recovery: RecoveryService;
    desk: DeskService;
    publicRateLimit: PublicRateLimit;
    secureCookies: boolean;
  },
) {
  const { recovery } = opts;
  const config = { rateLimit: opts.publicRateLimit };
  const ctxOf = (request: FastifyRequest, reply: FastifyReply, locale = requestLocale(request)) =>
    pageContext(request, locale, reply.generateCsrf());
  const renewed = (ctx: PageContext) => ctx.t("form.renewed");
  /** A form POST whose stale CSRF token shows the step again with a fresh form. */
  const post = <P,>(
    renew: (ctx: PageContext, request: FastifyRequest<{ Params: P; Body: FormBody }>) => preact.VNode,
  ) => ({
    schema: { hide: true },
    config,
    preHandler: freshFormOnCsrfFailure<FastifyRequest<{ Params: P; Body: FormBody }>>(
      app,
      (request, reply) => {
        const ctx = ctxOf(request, reply);
        return sendPage(reply, renew(ctx, request), 403);
      },
    ),
  });
  const go = (reply: FastifyReply, id: string, step: string, locale: string) =>
    reply.redirect(`/recover/${id}/${step}?lang=${locale}`, 303);
  const tokenCookie = (id: string) => ({
    httpOnly: true,
    sameSite: "strict" as const,
    secure: opts.secureCookies,
    path: `/recover/${id}`,
  });

  /** Runs a form's use-case; returns its coded error (the page shows it), or null when it went through. */
  const attempt = async (work: () => Promise<unknown>): Promise<AppError | null> => {
    try {
      await work();
      return null;
    } catch (error) {
      if (!isAppError(error) || error.code === "ERR_RECOVERY_NOT_FOUND" || error.code === "ERR_INTERNAL")
        throw error;
      return error;
    }
  };
  const refuse = (
    reply: FastifyReply,
    ctx: PageContext,
    error: AppError,
    page: (message: string) => preact.VNode,
  ) => sendPage(reply, page(errorText(ctx, error)), error.statusCode);
  const refuseField = (
    reply: FastifyReply,
    ctx: PageContext,
    key: MessageKey,
    page: (message: string) => preact.VNode,
  ) => sendPage(reply, page(ctx.t(key, { example: ctx.t("recover.example.address") })), 400);

  app.get<{ Querystring: { address?: string } }>(
    "/recover",
    { schema: { hide: true } },
    async (request, reply) => {
      const ctx = ctxOf(request, reply);
      return sendPage(
        reply,
        <StartPage ctx={ctx} address={String(request.query.address ?? "").slice(0, 254)} />,
      );
    },
  );

  app.post<{ Params: NoParams; Body: FormBody }>(
    "/recover",
    post<NoParams>((ctx, request) => (
      <StartPage ctx={ctx} address={field(request.body, "address")} error={renewed(ctx)} />
    )),
    async (request, reply) => {
      const ctx = ctxOf(request, reply);
      const address = field(request.body, "address");
      const page = (error: string, capped = false) => (
        <StartPage ctx={ctx} address={address} error={error} capped={capped} />
      );
      const problem = addressProblem(address, "error.ERR_ADDRESS_EMPTY");
      if (problem) return refuseField(reply, ctx, problem, page);
      let id = "";
      const failed = await attempt(async () => {
        id = (
          await recovery.start(
            address,
            explicitLocale(request),
            request.headers["accept-language"] ?? null,
            sourceOf(request.ip),
          )
        ).recoveryId;
      });
      if (failed) {
        if (typeof failed.details.retryAfter === "number")
          reply.header("retry-after", String(failed.details.retryAfter));
        return refuse(reply, ctx, failed, (message) => page(message, failed.statusCode === 429));
      }
      return go(reply, id, "channel", ctx.locale);
    },
  );

  /** Each step page first checks the recovery stands at that step, otherwise sends the person to where it does. */
  const stepPage = (
    step: string,
    render: (
      ctx: PageContext,
      view: RecoveryView,
      request: FastifyRequest<{ Params: Params }>,
    ) => Promise<preact.VNode> | preact.VNode,
    allowed: Array<RecoveryView["state"]>,
  ) =>
    app.get<{ Params: Params }>(
      `/recover/:id/${step}`,
      { schema: { hide: true } },
      async (request, reply) => {
        const view = await recovery.view(request.params.id);
        const ctx = ctxOf(request, reply, requestLocale(request, view.locale));
        if (!allowed.includes(view.state)) return go(reply, view.id, stepPath[view.state], ctx.locale);
        return sendPage(reply, await render(ctx, view, request));
      },
    );

  stepPage("channel", (ctx, view) => <ChannelPage ctx={ctx} id={view.id} />, [
    "choose_channel",
    "enter_code",
    "set_password",
  ]);
  stepPage("code", (ctx, view) => <CodePage ctx={ctx} view={view} />, ["enter_code"]);
  stepPage(
    "password",
    async (ctx, view) => (
      <PasswordPage ctx={ctx} id={view.id} caseRef={await recovery.openCaseAfterConfirmation(view.id)} />
    ),
    ["set_password"],
  );
  stepPage("done", (ctx, view) => <DonePage ctx={ctx} view={view} />, ["done"]);
  stepPage("no-access", (ctx, view) => <NoAccessPage ctx={ctx} id={view.id} />, [
    "choose_channel",
    "enter_code",
    "set_password",
  ]);
  stepPage(
    "case",
    async (ctx, view) =>
      view.caseRef ? (
        <CasePage
          ctx={ctx}
          view={view}
          desk={opts.desk}
          summary={await opts.desk.publicSummary(view.caseRef)}
        />
      ) : (
        <NoAccessPage ctx={ctx} id={view.id} />
      ),
    ["choose_channel", "enter_code", "set_password", "done"],
  );

  // The mail's link: a GET only shows the confirmation form; the POST confirms.
  app.get<{ Querystring: { token?: string } }>(
    "/recover/link",
    { schema: { hide: true } },
    async (request, reply) => {
      const ctx = ctxOf(request, reply);
      return sendPage(reply, <LinkPage ctx={ctx} token={String(request.query.token ?? "").slice(0, 100)} />);
    },
  );

  app.post<{ Params: NoParams; Body: FormBody }>(
    "/recover/link",
    post<NoParams>((ctx, request) => (
      <LinkPage ctx={ctx} token={field(request.body, "token", 100)} error={renewed(ctx)} />
    )),
    async (request, reply) => {
      const ctx = ctxOf(request, reply);
      const token = field(request.body, "token", 100);
      let confirmed: { recoveryId: string; passwordToken: string } | null = null;
      const failed = await attempt(async () => {
        confirmed = await recovery.confirmLink(token);
      });
      if (failed || !confirmed)
        return refuse(reply, ctx, failed!, (message) => <LinkPage ctx={ctx} token={token} error={message} />);
      const { recoveryId, passwordToken } = confirmed;
      reply.setCookie(PASSWORD_TOKEN_COOKIE, passwordToken, tokenCookie(recoveryId));
      return go(reply, recoveryId, "password", ctx.locale);
    },
  );

  // "I can't reach any of these" from a page that could not start a recovery: never blocked by its cap.
  app.get("/recover/no-access", { schema: { hide: true } }, async (request, reply) =>
    sendPage(reply, <NoAccessPage ctx={ctxOf(request, reply)} />),
  );

  app.post<{ Params: NoParams; Body: FormBody }>(
    "/recover/no-access",
    post<NoParams>((ctx, request) => (
      <NoAccessPage
        ctx={ctx}
        address={field(request.body, "address")}
        contact={field(request.body, "contactEmail")}
        error={renewed(ctx)}
      />
    )),
    async (request, reply) => {
      const ctx = ctxOf(request, reply);
      const address = field(request.body, "address");
      const contact = field(request.body, "contactEmail");
      const page = (error: string) => (
        <NoAccessPage ctx={ctx} address={address} contact={contact} error={error} />
      );
      const problem =
        addressProblem(address, "error.ERR_ADDRESS_EMPTY") ??
        addressProblem(contact, "error.ERR_CONTACT_EMPTY");
      if (problem) return refuseField(reply, ctx, problem, page);
      let id = "";
      const failed = await attempt(async () => {
        id = (
          await recovery.reportNoAccessWithoutRecovery(
            address,
            contact,
            explicitLocale(request),
            request.headers["accept-language"] ?? null,
            sourceOf(request.ip),
          )
        ).recoveryId;
      });
      if (failed) {
        if (typeof failed.details.retryAfter === "number")
          reply.header("retry-after", String(failed.details.retryAfter));
        return refuse(reply, ctx, failed, page);
      }
      return go(reply, id, "case", ctx.locale);
    },
  );

  app.post<{ Params: Params; Body: FormBody }>(
    "/recover/:id/channel",
    post<Params>((ctx, request) => (
      <ChannelPage
        ctx={ctx}
        id={request.params.id}
        value={field(request.body, "value")}
        error={renewed(ctx)}
      />
    )),
    async (request, reply) => {
      const { id } = request.params;
      const ctx = ctxOf(request, reply);
      const value = field(request.body, "value").trim();
      const page = (error: string) => <ChannelPage ctx={ctx} id={id} value={value} error={error} />;
      // Letters without "@" are an address typed in part, not a phone number.
      if (/\p{L}/u.test(value) && !value.includes("@"))
        return refuseField(reply, ctx, "error.ERR_ADDRESS_INCOMPLETE", page);
      const kind = value.includes("@") ? "email" : "phone";
      const failed = await attempt(() => recovery.chooseChannel(id, kind, value));
      if (failed) {
        if (typeof failed.details.retryAfter === "number")
          reply.header("retry-after", String(failed.details.retryAfter));
        return refuse(reply, ctx, failed, page);
      }
      return go(reply, id, "code", ctx.locale);
    },
  );

  const codePage = async (ctx: PageContext, id: string, error?: string) => (
    <CodePage ctx={ctx} view={await recovery.view(id)} error={error ?? null} />
  );

  app.post<{ Params: Params; Body: FormBody }>(
    "/recover/:id/code",
    {
      schema: { hide: true },
      config,
      preHandler: freshFormOnCsrfFailure<FastifyRequest<{ Params: Params; Body: FormBody }>>(
        app,
        async (request, reply) => {
          const ctx = ctxOf(request, reply);
          return sendPage(reply, await codePage(ctx, request.params.id, renewed(ctx)), 403);
        },
      ),
    },
    async (request, reply) => {
      const { id } = request.params;
      const ctx = ctxOf(request, reply);
      let passwordToken = "";
      const failed = await attempt(async () => {
        passwordToken = (await recovery.confirmCode(id, field(request.body, "code", 32))).passwordToken;
      });
      if (failed) {
        if (typeof failed.details.retryAfter === "number")
          reply.header("retry-after", String(failed.details.retryAfter));
        return sendPage(reply, await codePage(ctx, id, errorText(ctx, failed)), failed.statusCode);
      }
      reply.setCookie(PASSWORD_TOKEN_COOKIE, passwordToken, tokenCookie(id));
      return go(reply, id, "password", ctx.locale);
    },
  );

  app.post<{ Params: Params; Body: FormBody }>(
    "/recover/:id/password",
    post<Params>((ctx, request) => <PasswordPage ctx={ctx} id={request.params.id} error={renewed(ctx)} />),
    async (request, reply) => {
      const { id } = request.params;
      const ctx = ctxOf(request, reply);
      const page = (error: string) => <PasswordPage ctx={ctx} id={id} error={error} />;
      const password = field(request.body, "password", 1024);
      if (password === "") return refuseField(reply, ctx, "error.ERR_PASSWORD_EMPTY", page);
      if (password !== field(request.body, "confirmation", 1024))
        return refuseField(reply, ctx, "error.ERR_PASSWORD_MISMATCH", page);
      const failed = await attempt(() =>
        recovery.setPassword(
          id,
          password,
          request.cookies[PASSWORD_TOKEN_COOKIE] ?? "",
          request.cookies[DEVICE_COOKIE] ?? null,
        ),
      );
      if (failed) return refuse(reply, ctx, failed, page);
      reply.clearCookie(PASSWORD_TOKEN_COOKIE, tokenCookie(id));
      return go(reply, id, "done", ctx.locale);
    },
  );

  app.post<{ Params: Params; Body: FormBody }>(
    "/recover/:id/no-access",
    post<Params>((ctx, request) => (
      <NoAccessPage
        ctx={ctx}
        id={request.params.id}
        contact={field(request.body, "contactEmail")}
        error={renewed(ctx)}
      />
    )),
    async (request, reply) => {
      const { id } = request.params;
      const ctx = ctxOf(request, reply);
      const contact = field(request.body, "contactEmail");
      const page = (error: string) => <NoAccessPage ctx={ctx} id={id} contact={contact} error={error} />;
      if (contact.trim() !== "" && !contact.includes("@"))
        return refuseField(reply, ctx, "error.ERR_ADDRESS_INCOMPLETE", page);
      const failed = await attempt(() => recovery.reportNoAccess(id, contact));
      if (failed) return refuse(reply, ctx, failed, page);
      return go(reply, id, "case", ctx.locale);
    },
  );
}
