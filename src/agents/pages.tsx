import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isAppError } from "../platform/errors.js";
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
import { AGENT_SESSION_COOKIE } from "./guard.js";
import type { AgentsService } from "./service.js";

/** Holds the setup link's token while the agent is on its pages (for the language links). */
const SETUP_COOKIE = "sesame_agent_setup";

type SigninForm = { email?: string; password?: string; code?: string };
type SetupForm = { token?: string; password?: string; confirmation?: string; code?: string };

const field = (value: unknown, max: number) => String(value ?? "").slice(0, max);

function SigninPage(props: { ctx: PageContext; email?: string; error?: string | null }) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("agent.signin.title")}>
      <div class="card">
        <h1>{t("agent.signin.title")}</h1>
        <Alert message={props.error} />
        <Form ctx={props.ctx} action="/agent/signin">
          <Field
            name="email"
            type="email"
            autocomplete="username"
            label={t("agent.signin.email")}
            value={props.email}
          />
          <Field
            name="password"
            type="password"
            autocomplete="current-password"
            label={t("agent.signin.password")}
            error={props.error}
          />
          <Field
            name="code"
            type="text"
            class="code"
            numeric
            autocomplete="one-time-code"
            label={t("agent.signin.code")}
            hint={t("agent.signin.code.hint")}
          />
          <button type="submit">{t("agent.signin.submit")}</button>
        </Form>
      </div>
    </Layout>
  );
}

function SetupPasswordPage(props: {
  ctx: PageContext;
  token: string;
  who: { email: string; name: string };
  error?: string | null;
}) {
  const { t } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("agent.setup.title")}>
      <div class="card">
        <h1>{t("agent.setup.title")}</h1>
        <p>{t("agent.setup.intro", { name: props.who.name, email: props.who.email })}</p>
        <Alert message={props.error} />
        <Form ctx={props.ctx} action="/agent/setup">
          <input type="hidden" name="token" value={props.token} />
          <Field
            name="password"
            type="password"
            autocomplete="new-password"
            label={t("agent.setup.password")}
            hint={t("agent.setup.password.hint")}
            error={props.error}
          />
          <Field
            name="confirmation"
            type="password"
            autocomplete="new-password"
            label={t("agent.setup.confirmation")}
          />
          <button type="submit">{t("agent.setup.submit")}</button>
        </Form>
      </div>
    </Layout>
  );
}

function SetupTotpPage(props: {
  ctx: PageContext;
  token: string;
  secret: string;
  uri: string;
  error?: string | null;
}) {
  const { t } = props.ctx;
  const grouped = props.secret.match(/.{1,4}/g)?.join(" ") ?? props.secret;
  return (
    <Layout ctx={props.ctx} title={t("agent.setup.totp.title")}>
      <div class="card">
        <h1>{t("agent.setup.totp.title")}</h1>
        <p>{t("agent.setup.totp.intro")}</p>
        <h2>{t("agent.setup.totp.secret")}</h2>
        <pre class="secret">{grouped}</pre>
        <h2>{t("agent.setup.totp.uri")}</h2>
        <pre>
          <a href={props.uri}>{props.uri}</a>
        </pre>
        <Alert message={props.error} />
        <Form ctx={props.ctx} action="/agent/setup/confirm">
          <input type="hidden" name="token" value={props.token} />
          <Field
            name="code"
            type="text"
            class="code"
            numeric
            autocomplete="one-time-code"
            label={t("agent.setup.totp.code")}
            error={props.error}
          />
          <button type="submit">{t("agent.setup.totp.submit")}</button>
        </Form>
      </div>
    </Layout>
  );
}

function MessagePage(props: { ctx: PageContext; title: string; body: string; link?: [string, string] }) {
  return (
    <Layout ctx={props.ctx} title={props.title}>
      <div class="card">
        <h1>{props.title}</h1>
        <p class="notice">{props.body}</p>
        {props.link ? (
          <p>
            <a class="button" href={props.link[0]}>
              {props.link[1]}
            </a>
          </p>
        ) : null}
      </div>
    </Layout>
  );
}

/** The agents' pages: setup link, sign-in with password and code, sign-out, and the console's home. */
export async function agentsPages(
  app: FastifyInstance,
  opts: { agents: AgentsService; publicRateLimit: PublicRateLimit; secureCookies: boolean },
) {
  const { agents } = opts;
  const cookieOptions = {
    httpOnly: true,
    sameSite: "strict" as const,
    secure: opts.secureCookies,
    path: "/",
  };
  const maxAge = Math.floor(agents.settings.sessionAbsoluteMs / 1000);
  const setupCookie = { ...cookieOptions, path: "/agent/setup", maxAge: 3600 };
  const context = (request: FastifyRequest, reply: FastifyReply) =>
    pageContext(request, requestLocale(request), reply.generateCsrf());

  app.get("/agent/signin", { schema: { hide: true } }, async (request, reply) =>
    sendPage(reply, <SigninPage ctx={context(request, reply)} />),
  );

  app.post<{ Body: SigninForm }>(
    "/agent/signin",
    {
      schema: { hide: true },
      preHandler: freshFormOnCsrfFailure<FastifyRequest<{ Body: SigninForm }>>(app, (request, reply) => {
        const ctx = context(request, reply);
        const email = field(request.body?.email, 254);
        return sendPage(reply, <SigninPage ctx={ctx} email={email} error={ctx.t("form.renewed")} />, 403);
      }),
      config: { rateLimit: opts.publicRateLimit },
    },
    async (request, reply) => {
      const ctx = context(request, reply);
      const email = field(request.body?.email, 254);
      try {
        const { session } = await agents.signIn({
          email,
          password: field(request.body?.password, 1024),
          code: field(request.body?.code, 20),
          ip: request.ip,
        });
        reply.setCookie(AGENT_SESSION_COOKIE, session, { ...cookieOptions, maxAge });
        return reply.code(303).header("location", `/agent?lang=${ctx.locale}`).send();
      } catch (error) {
        if (!isAppError(error) || error.code !== "ERR_AGENT_SIGNIN_FAILED") throw error;
        const message = errorText(ctx, error);
        return sendPage(reply, <SigninPage ctx={ctx} email={email} error={message} />, 401);
      }
    },
  );

  const signoutGuard = freshFormOnCsrfFailure(app, (request, reply) =>
    reply
      .code(303)
      .header("location", `/agent?lang=${requestLocale(request)}`)
      .send(),
  );
  app.post("/agent/signout", { schema: { hide: true }, preHandler: signoutGuard }, async (request, reply) => {
    const ctx = pageContext(request, requestLocale(request));
    await agents.signOut(request.cookies[AGENT_SESSION_COOKIE]);
    reply.clearCookie(AGENT_SESSION_COOKIE, cookieOptions);
    return sendPage(
      reply,
      <MessagePage
        ctx={ctx}
        title={ctx.t("agent.signedout.title")}
        body={ctx.t("agent.signedout.body")}
        link={[`/agent/signin?lang=${ctx.locale}`, ctx.t("agent.signin.submit")]}
      />,
    );
  });

  // The setup link: GET only shows the form (a mail scanner opening the link changes nothing).
  app.get<{ Querystring: { token?: string } }>(
    "/agent/setup",
    { schema: { hide: true } },
    async (request, reply) => {
      // The language links of the page lead here without the token: the cookie keeps it for them.
      const token = field(request.query.token ?? request.cookies[SETUP_COOKIE], 200);
      const who = await agents.setupOf(token);
      reply.setCookie(SETUP_COOKIE, token, setupCookie);
      return sendPage(reply, <SetupPasswordPage ctx={context(request, reply)} token={token} who={who} />);
    },
  );

  const setupCsrf = freshFormOnCsrfFailure<FastifyRequest<{ Body: SetupForm }>>(
    app,
    async (request, reply) => {
      const token = field(request.body?.token, 200);
      const ctx = context(request, reply);
      const who = await agents.setupOf(token);
      return sendPage(
        reply,
        <SetupPasswordPage ctx={ctx} token={token} who={who} error={ctx.t("form.renewed")} />,
        403,
      );
    },
  );

  app.post<{ Body: SetupForm }>(
    "/agent/setup",
    { schema: { hide: true }, preHandler: setupCsrf, config: { rateLimit: opts.publicRateLimit } },
    async (request, reply) => {
      const ctx = context(request, reply);
      const token = field(request.body?.token, 200);
      try {
        const { secret, uri } = await agents.setPassword(
          token,
          field(request.body?.password, 1024),
          field(request.body?.confirmation, 1024),
        );
        return sendPage(reply, <SetupTotpPage ctx={ctx} token={token} secret={secret} uri={uri} />);
      } catch (error) {
        if (!isAppError(error) || !error.code.startsWith("ERR_PASSWORD_")) throw error;
        const who = await agents.setupOf(token);
        return sendPage(
          reply,
          <SetupPasswordPage ctx={ctx} token={token} who={who} error={errorText(ctx, error)} />,
          400,
        );
      }
    },
  );

  app.post<{ Body: SetupForm }>(
    "/agent/setup/confirm",
    { schema: { hide: true }, preHandler: setupCsrf, config: { rateLimit: opts.publicRateLimit } },
    async (request, reply) => {
      const ctx = context(request, reply);
      const token = field(request.body?.token, 200);
      try {
        await agents.confirmTotp(token, field(request.body?.code, 20));
      } catch (error) {
        if (!isAppError(error) || error.code !== "ERR_AGENT_CODE_INVALID") throw error;
        // The page shows the key again: the one saved with the password, never a key the form sent.
        const { secret, uri } = await agents.pendingTotp(token);
        return sendPage(
          reply,
          <SetupTotpPage ctx={ctx} token={token} secret={secret} uri={uri} error={errorText(ctx, error)} />,
          400,
        );
      }
      reply.clearCookie(SETUP_COOKIE, setupCookie);
      return sendPage(
        reply,
        <MessagePage
          ctx={ctx}
          title={ctx.t("agent.setup.done.title")}
          body={ctx.t("agent.setup.done.body")}
          link={[`/agent/signin?lang=${ctx.locale}`, ctx.t("agent.signin.submit")]}
        />,
      );
    },
  );
}
