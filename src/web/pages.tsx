import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import type { AppError } from "../platform/errors.js";
import {
  type Locale,
  localeNames,
  locales,
  type MessageKey,
  type Translate,
  translator,
} from "../platform/i18n.js";
import { stylesheet } from "./styles.js";

export interface PageContext {
  locale: Locale;
  t: Translate;
  /** The page's path built from its route (never the raw request path), for the language switcher. */
  path: string;
  csrfToken?: string;
  /** Messages are captured, not sent: every page points to the development mailbox. */
  devMailbox: boolean;
  /**
   * Query parameters the language links keep (besides `lang`): a page reached by a link that carries
   * its own token (a case's status page, a survey) shows the same page in another language.
   */
  keep?: Record<string, string>;
}

/**
 * The path of the page from its matched route pattern, parameters filled in encoded: a raw path such
 * as `//evil.example/login` would make the switcher's links protocol-relative, pointing elsewhere.
 * Error and unmatched pages link to "/".
 */
const routePath = (request: FastifyRequest): string => {
  const pattern = request.routeOptions?.url;
  if (!pattern || request.is404) return "/";
  const params = (request.params ?? {}) as Record<string, unknown>;
  const path = pattern.replace(/:(\w+)/g, (_whole, name: string) =>
    encodeURIComponent(String(params[name] ?? "")),
  );
  return /^\/(?![/\\])/.test(path) ? path : "/";
};

export const pageContext = (request: FastifyRequest, locale: Locale, csrfToken?: string): PageContext => ({
  locale,
  t: translator(locale),
  path: routePath(request),
  ...(csrfToken ? { csrfToken } : {}),
  devMailbox: request.server.devMailbox,
});

/**
 * The localised text of a coded error, for re-rendering a form with what went wrong: the error's
 * own values filled in, the placeholders it did not set left empty.
 */
export const errorText = (ctx: PageContext, error: AppError, extra: Record<string, string> = {}): string =>
  ctx
    .t(`error.${error.code}` as MessageKey, {
      attemptsLeft: "",
      retryAfterMinutes: "",
      retryAfterHours: "",
      hint: "",
      correlationId: "",
      ...extra,
      ...(error.params as Record<string, string | number>),
    })
    .trim();

const withLang = (path: string, locale: Locale, keep: Record<string, string> = {}) =>
  `${path}?${new URLSearchParams({ ...keep, lang: locale }).toString()}`;

export function Layout(props: { ctx: PageContext; title: string; children: ComponentChildren }) {
  const { t, locale, path } = props.ctx;
  const nav: Array<[string, string]> = [
    ["/", t("nav.home")],
    ["/recover", t("nav.recover")],
    ["/signin", t("nav.signin")],
  ];
  return (
    <html lang={locale}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${t("app.name")}`}</title>
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <a class="skip" href="#main">
          {t("nav.skip")}
        </a>
        <header class="site">
          <div class="bar">
            <a class="brand" href={withLang("/", locale)}>
              {t("app.name")} · {t("app.tagline")}
            </a>
            <nav aria-label={t("app.name")}>
              <ul>
                {nav.map(([href, label]) => (
                  <li key={href}>
                    <a href={withLang(href, locale)} aria-current={path === href ? "page" : undefined}>
                      {label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            <nav aria-label={t("nav.language")}>
              <ul>
                {locales.map((l) => (
                  <li key={l}>
                    <a
                      href={withLang(path, l, props.ctx.keep)}
                      lang={l}
                      hrefLang={l}
                      aria-current={l === locale ? "true" : undefined}
                    >
                      {localeNames[l]}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          </div>
        </header>
        <main id="main">{props.children}</main>
        {props.ctx.devMailbox ? (
          <footer>
            <p>
              {t("dev.mailbox.footer")}{" "}
              <a href={withLang("/dev/mailbox", locale)}>{t("dev.mailbox.title")}</a>
            </p>
          </footer>
        ) : null}
      </body>
    </html>
  );
}

/** A form that works without JavaScript: CSRF token and language travel as hidden fields. */
export function Form(props: { ctx: PageContext; action: string; children: ComponentChildren }) {
  return (
    <form method="post" action={props.action} novalidate>
      {props.ctx.csrfToken ? <input type="hidden" name="_csrf" value={props.ctx.csrfToken} /> : null}
      <input type="hidden" name="lang" value={props.ctx.locale} />
      {props.children}
    </form>
  );
}

const ERROR_ID = "form-error";

export const Alert = (props: { message: string | null | undefined }) =>
  props.message ? (
    <div class="alert" role="alert" id={ERROR_ID}>
      {props.message}
    </div>
  ) : null;

/**
 * A labelled input of a form. After a failed submission it is marked invalid, points to the error
 * message and takes the focus, all without JavaScript.
 */
export function Field(props: {
  name: string;
  label: string;
  type: "text" | "email" | "password";
  autocomplete: string;
  value?: string;
  hint?: string;
  error?: string | null | undefined;
  class?: string;
  numeric?: boolean;
}) {
  const hintId = props.hint ? `${props.name}-hint` : null;
  const describedBy = [hintId, props.error ? ERROR_ID : null].filter(Boolean).join(" ");
  return (
    <>
      <label for={props.name}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={hintId!}>
          {props.hint}
        </p>
      ) : null}
      <input
        id={props.name}
        name={props.name}
        type={props.type}
        class={props.class}
        autocomplete={props.autocomplete}
        inputMode={props.numeric ? "numeric" : undefined}
        required
        value={props.type === "password" ? "" : (props.value ?? "")}
        aria-describedby={describedBy || undefined}
        aria-invalid={props.error ? "true" : undefined}
        autofocus={props.error ? true : undefined}
      />
    </>
  );
}

export const renderPage = (node: preact.VNode): string => `<!doctype html>${renderToString(node)}`;

export function sendPage(reply: FastifyReply, node: preact.VNode, status = 200) {
  return reply
    .code(status)
    .type("text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .send(renderPage(node));
}

export function renderErrorPage(request: FastifyRequest, locale: Locale, message: string): string {
  const ctx = { ...pageContext(request, locale), path: "/" };
  return renderPage(
    <Layout ctx={ctx} title={ctx.t("error.title")}>
      <div class="card">
        <h1>{ctx.t("error.title")}</h1>
        <Alert message={message} />
        <p>
          <a href={withLang("/", locale)}>{ctx.t("nav.home")}</a>
        </p>
      </div>
    </Layout>,
  );
}

export async function webAssets(app: FastifyInstance) {
  app.get("/static/app.css", { schema: { hide: true } }, async (_request, reply) =>
    reply.type("text/css; charset=utf-8").header("cache-control", "public, max-age=3600").send(stylesheet),
  );
}
