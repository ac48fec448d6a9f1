import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type AppError, isAppError } from "../platform/errors.js";
import { formatInstant, type MessageKey } from "../platform/i18n.js";
import { explicitLocale, type PublicRateLimit, requestLocale } from "../web/http.js";
import { Alert, Field, Form, Layout, type PageContext, pageContext, sendPage } from "../web/pages.js";
import type { RecoveryService, RecoveryView } from "./service.js";

type Params = { id: string };
type FormBody = Record<string, string | undefined>;

/** The localised text of a coded error, for re-rendering a form with what went wrong. */
const errorText = (ctx: PageContext, error: AppError) =>
  ctx.t(`error.${error.code}` as MessageKey, {
    attemptsLeft: "",
    retryAfterMinutes: "",
    hint: "",
    correlationId: "",
    ...(error.params as Record<string, string | number>),
  });

const field = (body: FormBody | undefined, name: string, max = 254) =>
  String(body?.[name] ?? "").slice(0, max);

function StartPage(props: { ctx: PageContext; address?: string; error?: string | null }) {
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
      </div>
    </Layout>
  );
}

function ChannelPage(props: { ctx: PageContext; id: string; value?: string; error?: string | null }) {
  const { t, locale } = props.ctx;
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
        <p class="secondary">
          <a href={`/recover/${props.id}/no-access?lang=${locale}`}>{t("recover.channel.noaccess")}</a>
        </p>
      </div>
    </Layout>
  );
}

function CodePage(props: {
  ctx: PageContext;
  view: RecoveryView;
  prefilled?: string;
  error?: string | null;
}) {
  const { t, locale } = props.ctx;
  const id = props.view.id;
  return (
    <Layout ctx={props.ctx} title={t("recover.code.title")}>
      <div class="card">
        <h1>{t("recover.code.title")}</h1>
        <p>{props.prefilled ? t("recover.code.fromlink") : t("recover.code.intro")}</p>
        {props.view.code?.destination && !props.prefilled ? (
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
            value={props.prefilled}
            error={props.error}
          />
          <button type="submit">{t("recover.code.submit")}</button>
        </Form>
        <p class="secondary">
          <a href={`/recover/${id}/channel?lang=${locale}`}>{t("recover.code.resend")}</a>
          <br />
          <a href={`/recover/${id}/no-access?lang=${locale}`}>{t("recover.channel.noaccess")}</a>
        </p>
      </div>
    </Layout>
  );
}

function PasswordPage(props: { ctx: PageContext; id: string; error?: string | null }) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("recover.password.title")}>
      <div class="card">
        <h1>{t("recover.password.title")}</h1>
        <p>{t("recover.password.intro")}</p>
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

function NoAccessPage(props: { ctx: PageContext; id: string; contact?: string; error?: string | null }) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("recover.noaccess.title")}>
      <div class="card">
        <h1>{t("recover.noaccess.title")}</h1>
        <p>{t("recover.noaccess.intro")}</p>
        <Alert message={props.error} />
        <Form ctx={props.ctx} action={`/recover/${props.id}/no-access`}>
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

function CasePage(props: { ctx: PageContext; view: RecoveryView }) {
  const { t, locale } = props.ctx;
  const { caseRef, caseSince, contactEmail } = props.view;
  return (
    <Layout ctx={props.ctx} title={t("recover.case.title")}>
      <div class="card">
        <h1>{t("recover.case.title")}</h1>
        <p class="ref">{t("recover.case.ref", { ref: caseRef ?? "" })}</p>
        <p>{t("recover.case.next", { contact: contactEmail ?? "" })}</p>
        {caseSince ? <p>{t("recover.case.clock", { since: formatInstant(caseSince, locale) })}</p> : null}
      </div>
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

/** The recovery journey in the browser, without JavaScript: each step a form, each POST a redirect. */
export async function recoveryPages(
  app: FastifyInstance,
  opts: { recovery: RecoveryService; publicRateLimit: PublicRateLimit },
) {
  const { recovery } = opts;
  const config = { rateLimit: opts.publicRateLimit };
  const post = { schema: { hide: true }, preHandler: app.csrfProtection, config };
  const ctxOf = (request: FastifyRequest, reply: FastifyReply, locale = requestLocale(request)) =>
    pageContext(request, locale, reply.generateCsrf());
  const go = (reply: FastifyReply, id: string, step: string, locale: string) =>
    reply.redirect(`/recover/${id}/${step}?lang=${locale}`, 303);

  /** Runs a form's use-case; on a coded error, re-renders the form with the message (status of the error). */
  const attempt = async (
    reply: FastifyReply,
    ctx: PageContext,
    work: () => Promise<unknown>,
    rerender: (error: string) => preact.VNode,
  ) => {
    try {
      await work();
      return null;
    } catch (error) {
      if (!isAppError(error) || error.code === "ERR_RECOVERY_NOT_FOUND" || error.code === "ERR_INTERNAL")
        throw error;
      return sendPage(reply, rerender(errorText(ctx, error)), error.statusCode);
    }
  };

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

  app.post<{ Body: FormBody }>("/recover", post, async (request, reply) => {
    const ctx = ctxOf(request, reply);
    const address = field(request.body, "address");
    let id = "";
    const failed = await attempt(
      reply,
      ctx,
      async () => {
        id = (
          await recovery.start(address, explicitLocale(request), request.headers["accept-language"] ?? null)
        ).recoveryId;
      },
      (error) => <StartPage ctx={ctx} address={address} error={error} />,
    );
    if (failed) return failed;
    const view = await recovery.view(id);
    return go(reply, id, "channel", view.locale);
  });

  /** Each step page first checks the recovery stands at that step, otherwise sends the person to where it does. */
  const stepPage = (
    step: string,
    render: (
      ctx: PageContext,
      view: RecoveryView,
      request: FastifyRequest<{ Params: Params }>,
    ) => preact.VNode,
    allowed: Array<RecoveryView["state"]>,
  ) =>
    app.get<{ Params: Params }>(
      `/recover/:id/${step}`,
      { schema: { hide: true } },
      async (request, reply) => {
        const view = await recovery.view(request.params.id);
        const ctx = ctxOf(request, reply, requestLocale(request, view.locale));
        if (!allowed.includes(view.state)) return go(reply, view.id, stepPath[view.state], ctx.locale);
        return sendPage(reply, render(ctx, view, request));
      },
    );

  stepPage("channel", (ctx, view) => <ChannelPage ctx={ctx} id={view.id} />, [
    "choose_channel",
    "enter_code",
    "set_password",
  ]);
  // Opening the link from the mail only shows the form with the code filled in; the POST uses it.
  stepPage(
    "code",
    (ctx, view, request) => (
      <CodePage
        ctx={ctx}
        view={view}
        prefilled={String((request.query as { code?: string }).code ?? "")
          .replace(/\D/g, "")
          .slice(0, 6)}
      />
    ),
    ["enter_code"],
  );
  stepPage("password", (ctx, view) => <PasswordPage ctx={ctx} id={view.id} />, ["set_password"]);
  stepPage("done", (ctx, view) => <DonePage ctx={ctx} view={view} />, ["done"]);
  stepPage("no-access", (ctx, view) => <NoAccessPage ctx={ctx} id={view.id} />, [
    "choose_channel",
    "enter_code",
    "set_password",
  ]);
  stepPage(
    "case",
    (ctx, view) =>
      view.caseRef ? <CasePage ctx={ctx} view={view} /> : <NoAccessPage ctx={ctx} id={view.id} />,
    ["choose_channel", "enter_code", "set_password", "done"],
  );

  app.post<{ Params: Params; Body: FormBody }>("/recover/:id/channel", post, async (request, reply) => {
    const { id } = request.params;
    const ctx = ctxOf(request, reply);
    const value = field(request.body, "value").trim();
    const kind = value.includes("@") ? "email" : "phone";
    const failed = await attempt(
      reply,
      ctx,
      () => recovery.chooseChannel(id, kind, value),
      (error) => <ChannelPage ctx={ctx} id={id} value={value} error={error} />,
    );
    return failed ?? go(reply, id, "code", ctx.locale);
  });

  app.post<{ Params: Params; Body: FormBody }>("/recover/:id/code", post, async (request, reply) => {
    const { id } = request.params;
    const ctx = ctxOf(request, reply);
    const view = await recovery.view(id);
    const failed = await attempt(
      reply,
      ctx,
      () => recovery.confirmCode(id, field(request.body, "code", 32)),
      (error) => <CodePage ctx={ctx} view={view} error={error} />,
    );
    return failed ?? go(reply, id, "password", ctx.locale);
  });

  app.post<{ Params: Params; Body: FormBody }>("/recover/:id/password", post, async (request, reply) => {
    const { id } = request.params;
    const ctx = ctxOf(request, reply);
    const failed = await attempt(
      reply,
      ctx,
      () => recovery.setPassword(id, field(request.body, "password", 1024)),
      (error) => <PasswordPage ctx={ctx} id={id} error={error} />,
    );
    return failed ?? go(reply, id, "done", ctx.locale);
  });

  app.post<{ Params: Params; Body: FormBody }>("/recover/:id/no-access", post, async (request, reply) => {
    const { id } = request.params;
    const ctx = ctxOf(request, reply);
    const contact = field(request.body, "contactEmail");
    const failed = await attempt(
      reply,
      ctx,
      () => recovery.reportNoAccess(id, contact),
      (error) => <NoAccessPage ctx={ctx} id={id} contact={contact} error={error} />,
    );
    return failed ?? go(reply, id, "case", ctx.locale);
  });
}
