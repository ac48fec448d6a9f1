import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isAppError } from "../platform/errors.js";
import { formatInstant } from "../platform/i18n.js";
import { randomToken } from "../platform/secrets.js";
import { DEVICE_COOKIE, type PublicRateLimit, requestLocale } from "../web/http.js";
import { Alert, Field, Form, Layout, type PageContext, pageContext, sendPage } from "../web/pages.js";
import type { AccountsService, SigninResult } from "./service.js";

const SESSION_COOKIE = "sesame_session";

type SigninForm = { address?: string; password?: string };

function SigninPage(props: {
  ctx: PageContext;
  address?: string;
  error?: string | null;
  locked?: Extract<SigninResult, { outcome: "locked" }>;
}) {
  const { t, locale } = props.ctx;
  const locked = props.locked;
  if (locked) {
    const reason = locked.lock.reason;
    const message =
      reason === "compromise"
        ? t("signin.locked.compromise")
        : reason === "brute_force"
          ? t("signin.locked.brute_force", {
              until: formatInstant(locked.lock.until ?? locked.lock.since, locale),
            })
          : t("signin.locked.other");
    return (
      <Layout ctx={props.ctx} title={t("signin.locked.title")}>
        <div class="card">
          <h1>{t("signin.locked.title")}</h1>
          <div class="alert" role="alert">
            {message}
          </div>
          <a class="button" href={`/recover?lang=${locale}&address=${encodeURIComponent(locked.address)}`}>
            {t("signin.locked.action")}
          </a>
        </div>
      </Layout>
    );
  }
  return (
    <Layout ctx={props.ctx} title={t("signin.title")}>
      <div class="card">
        <h1>{t("signin.title")}</h1>
        <Alert message={props.error} />
        <Form ctx={props.ctx} action="/signin">
          <Field
            name="address"
            type="email"
            autocomplete="username"
            label={t("signin.address")}
            value={props.address}
          />
          <Field
            name="password"
            type="password"
            autocomplete="current-password"
            label={t("signin.password")}
            error={props.error}
          />
          <button type="submit">{t("signin.submit")}</button>
        </Form>
        <p class="secondary">
          <a href={`/recover?lang=${locale}`}>{t("signin.forgot")}</a>
        </p>
      </div>
    </Layout>
  );
}

/** The sign-in page of the built-in directory. */
export async function accountsPages(
  app: FastifyInstance,
  opts: { accounts: AccountsService; publicRateLimit: PublicRateLimit; secureCookies: boolean },
) {
  // The device cookie is how a returning browser is "known" and passes a brute_force lock.
  const deviceOf = (request: FastifyRequest, reply: FastifyReply): string => {
    const existing = request.cookies[DEVICE_COOKIE];
    if (existing && /^[\w-]{16,64}$/.test(existing)) return existing;
    const created = randomToken(24);
    reply.setCookie(DEVICE_COOKIE, created, {
      httpOnly: true,
      sameSite: "lax",
      secure: opts.secureCookies,
      path: "/",
      maxAge: 400 * 24 * 3600,
    });
    return created;
  };

  app.get("/signin", { schema: { hide: true } }, async (request, reply) => {
    deviceOf(request, reply);
    const ctx = pageContext(request, requestLocale(request), reply.generateCsrf());
    return sendPage(reply, <SigninPage ctx={ctx} />);
  });

  app.post<{ Body: SigninForm }>(
    "/signin",
    { schema: { hide: true }, preHandler: app.csrfProtection, config: { rateLimit: opts.publicRateLimit } },
    async (request, reply) => {
      const device = deviceOf(request, reply);
      const ctx = pageContext(request, requestLocale(request), reply.generateCsrf());
      const address = String(request.body?.address ?? "").slice(0, 254);
      const password = String(request.body?.password ?? "").slice(0, 1024);
      try {
        const result = await opts.accounts.signIn(address, password, device, request.ip);
        if (result.outcome === "locked")
          return sendPage(reply, <SigninPage ctx={ctx} locked={result} />, 423);
        reply.setCookie(SESSION_COOKIE, result.session, {
          httpOnly: true,
          sameSite: "lax",
          secure: opts.secureCookies,
          path: "/",
        });
        return sendPage(
          reply,
          <Layout ctx={ctx} title={ctx.t("signin.success.title")}>
            <div class="card">
              <h1>{ctx.t("signin.success.title")}</h1>
              <p class="notice">
                {ctx.t("signin.success.body", { name: result.displayName ?? result.address })}
              </p>
            </div>
          </Layout>,
        );
      } catch (error) {
        if (isAppError(error) && error.code === "ERR_INVALID_CREDENTIALS") {
          return sendPage(
            reply,
            <SigninPage ctx={ctx} address={address} error={ctx.t("signin.invalid")} />,
            401,
          );
        }
        throw error;
      }
    },
  );
}
