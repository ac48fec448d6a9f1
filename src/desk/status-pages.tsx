import type { FastifyInstance } from "fastify";
import { AppError } from "../platform/errors.js";
import { formatInstant } from "../platform/i18n.js";
import { requestLocale } from "../web/http.js";
import { Layout, pageContext, sendPage } from "../web/pages.js";
import type { CasesService } from "./cases.js";

/**
 * A contact's own status page. Its token (from that contact's mail) is the only key: the reference
 * alone grants nothing, and the page shows only what was written to that contact. It changes
 * nothing, so the token may ride in its URL (logs never keep query strings).
 */
export async function casesPages(app: FastifyInstance, opts: { cases: CasesService }) {
  app.get<{ Querystring: { token?: string } }>(
    "/cases/status",
    { schema: { hide: true } },
    async (request, reply) => {
      const status = await opts.cases.statusForToken(String(request.query.token ?? ""));
      if (!status) throw new AppError("ERR_NOT_FOUND");
      const ctx = pageContext(request, requestLocale(request, status.locale));
      const { t, locale } = ctx;
      return sendPage(
        reply,
        <Layout ctx={ctx} title={t("cases.status.title")}>
          <div class="card">
            <h1>{t("cases.status.title")}</h1>
            <p class="ref">{t("recover.case.ref", { ref: status.ref })}</p>
            <h2>{t("cases.status.written")}</h2>
            {status.messages.length === 0 ? (
              <p>{t("cases.status.none")}</p>
            ) : (
              <ul>
                {status.messages.map((m) => (
                  <li key={m.at}>
                    {formatInstant(m.at, locale)}: {t(m.subjectKey, m.params)}
                  </li>
                ))}
              </ul>
            )}
          </div>
        </Layout>,
      );
    },
  );
}
