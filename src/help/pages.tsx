import type { FastifyInstance } from "fastify";
import { ContactOptions, countryOf } from "../desk/pages.js";
import type { DeskService } from "../desk/service.js";
import { requestLocale } from "../web/http.js";
import { Layout, pageContext, sendPage } from "../web/pages.js";

/** The help-centre home: the way back in, and how to reach a person. */
export async function helpPages(app: FastifyInstance, opts: { desk: DeskService }) {
  app.get("/", { schema: { hide: true } }, async (request, reply) => {
    const ctx = pageContext(request, requestLocale(request));
    const { t, locale } = ctx;
    return sendPage(
      reply,
      <Layout ctx={ctx} title={t("home.title")}>
        <h1>{t("home.title")}</h1>
        <p>{t("home.intro")}</p>
        <section class="card" aria-labelledby="recover">
          <h2 id="recover">{t("home.recover.title")}</h2>
          <p>{t("home.recover.body")}</p>
          <a class="button" href={`/recover?lang=${locale}`}>
            {t("home.recover.action")}
          </a>
        </section>
        <section class="card" aria-labelledby="contact">
          <h2 id="contact">{t("home.contact.title")}</h2>
          <p>{t("home.contact.body", { action: t("recover.channel.noaccess") })}</p>
          <a class="button" href={`/contact?lang=${locale}`}>
            {t("desk.contact.title")}
          </a>
        </section>
        <ContactOptions ctx={ctx} desk={opts.desk} country={countryOf(request)} />
        <section class="card" aria-labelledby="signin">
          <h2 id="signin">{t("home.signin.title")}</h2>
          <p>
            {t("home.signin.body")} <a href={`/signin?lang=${locale}`}>{t("nav.signin")}</a>
          </p>
        </section>
      </Layout>,
    );
  });
}
