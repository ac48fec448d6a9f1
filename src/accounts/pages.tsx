import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DAY } from "../platform/clock.js";
import { isAppError } from "../platform/errors.js";
import { formatInstant, type MessageKey } from "../platform/i18n.js";
import { freshFormOnCsrfFailure } from "../web/forms.js";
import { DEVICE_COOKIE, type PublicRateLimit, requestLocale } from "../web/http.js";
import { Alert, Field, Form, Layout, type PageContext, pageContext, sendPage } from "../web/pages.js";
import type { AccountsService, AccountView, SigninResult } from "./service.js";

const SESSION_COOKIE = "sesame_session";
/** As long as the session itself (30 days): the browser forgets it when the server does. */
const SESSION_COOKIE_MAX_AGE_S = (30 * DAY) / 1000;
const DEVICE_COOKIE_MAX_AGE_S = (400 * DAY) / 1000;

type SigninForm = { address?: string; password?: string };
type FieldError = { field: "address" | "password"; message: string };
type Refusal = Exclude<SigninResult, { outcome: "signed_in" }>;

/**
 * What is wrong with the form itself, before any account is looked up (so it reveals nothing):
 * each field says what it expects.
 */
function formProblem(
  address: string,
  password: string,
): { field: FieldError["field"]; key: MessageKey } | null {
  if (address.trim() === "") return { field: "address", key: "signin.address.missing" };
  if (!address.includes("@")) return { field: "address", key: "signin.address.incomplete" };
  if (password === "") return { field: "password", key: "signin.password.missing" };
  return null;
}

function LockedPage(props: { ctx: PageContext; refusal: Refusal }) {
  const { t, locale } = props.ctx;
  const { refusal } = props;
  const reason = refusal.outcome === "throttled" ? "brute_force" : refusal.lock.reason;
  const message =
    reason === "compromise"
      ? t("signin.locked.compromise")
      : reason === "brute_force"
        ? t("signin.locked.brute_force", {
            until: formatInstant(
              refusal.outcome === "throttled" ? refusal.until : (refusal.lock.until ?? refusal.lock.since),
              locale,
            ),
          })
        : t("signin.locked.other");
  return (
    <Layout ctx={props.ctx} title={t("signin.locked.title")}>
      <div class="card">
        <h1>{t("signin.locked.title")}</h1>
        <div class="alert" role="alert">
          {message}
        </div>
        <a class="button" href={`/recover?lang=${locale}&address=${encodeURIComponent(refusal.address)}`}>
          {t("signin.locked.action")}
        </a>
      </div>
    </Layout>
  );
}

function SigninPage(props: { ctx: PageContext; address?: string; error?: FieldError | null }) {
  const { t, locale } = props.ctx;
  const error = props.error ?? null;
  return (
    <Layout ctx={props.ctx} title={t("signin.title")}>
      <div class="card">
        <h1>{t("signin.title")}</h1>
        <Alert message={error?.message} />
        <Form ctx={props.ctx} action="/signin">
          <Field
            name="address"
            type="email"
            autocomplete="username"
            label={t("signin.address")}
            value={props.address}
            error={error?.field === "address" ? error.message : null}
          />
          <Field
            name="password"
            type="password"
            autocomplete="current-password"
            label={t("signin.password")}
            error={error?.field === "password" ? error.message : null}
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

/** After sign-in: the account as its owner may see it, a way out, and the way back to help. */
function AccountPage(props: { ctx: PageContext; account: AccountView; caseRef: string | null }) {
  const { t, locale } = props.ctx;
  const { account } = props;
  return (
    <Layout ctx={props.ctx} title={t("account.title")}>
      <div class="card">
        <h1>{t("account.title")}</h1>
        <p class="notice">{t("signin.success.body", { name: account.displayName ?? account.address })}</p>
        {props.caseRef ? <p class="notice">{t("account.case", { ref: props.caseRef })}</p> : null}
        <dl>
          <dt>{t("account.address")}</dt>
          <dd>{account.address}</dd>
          <dt>{t("account.status")}</dt>
          <dd>{account.status === "active" ? t("account.status.active") : t("account.status.locked")}</dd>
          <dt>{t("account.backups")}</dt>
          <dd>
            {account.alternates.length === 0 ? (
              t("account.backups.none")
            ) : (
              <ul>
                {account.alternates.map((a) => (
                  <li key={a.masked}>
                    {a.masked}
                    {a.verified ? "" : ` ${t("account.backups.unverified")}`}
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </dl>
        <Form ctx={props.ctx} action="/signout">
          <button type="submit">{t("account.signout")}</button>
        </Form>
        <p class="secondary">
          <a href={`/?lang=${locale}`}>{t("account.help")}</a>
        </p>
      </div>
    </Layout>
  );
}

function SignedOutPage(props: { ctx: PageContext }) {
  const { t, locale } = props.ctx;
  return (
    <Layout ctx={props.ctx} title={t("account.signedout.title")}>
      <div class="card">
        <h1>{t("account.signedout.title")}</h1>
        <p class="notice">{t("account.signedout.body")}</p>
        <p>
          <a class="button" href={`/signin?lang=${locale}`}>
            {t("signin.submit")}
          </a>
        </p>
        <p class="secondary">
          <a href={`/?lang=${locale}`}>{t("account.help")}</a>
        </p>
      </div>
    </Layout>
  );
}

/** The sign-in page of the built-in directory, the signed-in account page and sign-out. */
export async function accountsPages(
  app: FastifyInstance,
  opts: {
    accounts: AccountsService;
    /** The open support case of an address, if any: the account page mentions it. */
    openCaseRefOf: (address: string) => Promise<string | undefined>;
    publicRateLimit: PublicRateLimit;
    secureCookies: boolean;
  },
) {
  const cookieOptions = { httpOnly: true, sameSite: "lax" as const, secure: opts.secureCookies, path: "/" };
  const liveSession = async (request: FastifyRequest) => {
    const token = request.cookies[SESSION_COOKIE];
    if (!token) return null;
    try {
      return await opts.accounts.sessionOf(token);
    } catch (error) {
      if (isAppError(error) && error.code === "ERR_SESSION_INVALID") return null;
      throw error;
    }
  };
  const toSignin = (reply: FastifyReply, ctx: PageContext) =>
    reply.code(303).header("location", `/signin?lang=${ctx.locale}`).send();

  app.get("/signin", { schema: { hide: true } }, async (request, reply) => {
    const ctx = pageContext(request, requestLocale(request), reply.generateCsrf());
    return sendPage(reply, <SigninPage ctx={ctx} />);
  });

  app.post<{ Body: SigninForm }>(
    "/signin",
    {
      schema: { hide: true },
      // A stale form (a tab left open) shows the sign-in again with a fresh form, never "reload".
      preHandler: freshFormOnCsrfFailure<FastifyRequest<{ Body: SigninForm }>>(app, (request, reply) => {
        const ctx = pageContext(request, requestLocale(request), reply.generateCsrf());
        const address = String(request.body?.address ?? "").slice(0, 254);
        const renewed = { field: "password" as const, message: ctx.t("form.renewed") };
        return sendPage(reply, <SigninPage ctx={ctx} address={address} error={renewed} />, 403);
      }),
      config: { rateLimit: opts.publicRateLimit },
    },
    async (request, reply) => {
      const ctx = pageContext(request, requestLocale(request), reply.generateCsrf());
      const address = String(request.body?.address ?? "").slice(0, 254);
      const password = String(request.body?.password ?? "").slice(0, 1024);
      const problem = formProblem(address, password);
      if (problem)
        return sendPage(
          reply,
          <SigninPage
            ctx={ctx}
            address={address}
            error={{ field: problem.field, message: ctx.t(problem.key) }}
          />,
          400,
        );
      try {
        // The device cookie holds an id Sesame issued; anything else counts as an unknown device.
        const result = await opts.accounts.signIn(
          address,
          password,
          request.cookies[DEVICE_COOKIE],
          request.ip,
        );
        if (result.outcome !== "signed_in") {
          if (result.outcome === "throttled") reply.header("retry-after", String(result.retryAfter));
          return sendPage(reply, <LockedPage ctx={ctx} refusal={result} />, 423);
        }
        reply.setCookie(SESSION_COOKIE, result.session, {
          ...cookieOptions,
          maxAge: SESSION_COOKIE_MAX_AGE_S,
        });
        reply.setCookie(DEVICE_COOKIE, result.deviceId, {
          ...cookieOptions,
          maxAge: DEVICE_COOKIE_MAX_AGE_S,
        });
        return reply.code(303).header("location", `/account?lang=${ctx.locale}`).send();
      } catch (error) {
        if (isAppError(error) && error.code === "ERR_INVALID_CREDENTIALS") {
          const message = ctx.t("signin.invalid");
          return sendPage(
            reply,
            <SigninPage ctx={ctx} address={address} error={{ field: "password", message }} />,
            401,
          );
        }
        throw error;
      }
    },
  );

  app.get("/account", { schema: { hide: true } }, async (request, reply) => {
    const ctx = pageContext(request, requestLocale(request), reply.generateCsrf());
    const session = await liveSession(request);
    if (!session) return toSignin(reply, ctx);
    const account = await opts.accounts.viewOf(session.accountId);
    const caseRef = (await opts.openCaseRefOf(account.address)) ?? null;
    return sendPage(reply, <AccountPage ctx={ctx} account={account} caseRef={caseRef} />);
  });

  const signoutGuard = freshFormOnCsrfFailure(app, (request, reply) =>
    reply
      .code(303)
      .header("location", `/account?lang=${requestLocale(request)}`)
      .send(),
  );
  app.post("/signout", { schema: { hide: true }, preHandler: signoutGuard }, async (request, reply) => {
    const ctx = pageContext(request, requestLocale(request));
    const token = request.cookies[SESSION_COOKIE];
    try {
      if (token) await opts.accounts.signOut(token);
    } catch (error) {
      // Already ended (expired, revoked elsewhere): signing out again is not a fault.
      if (!isAppError(error) || error.code !== "ERR_SESSION_INVALID") throw error;
    }
    reply.clearCookie(SESSION_COOKIE, cookieOptions);
    return sendPage(reply, <SignedOutPage ctx={ctx} />);
  });
}
