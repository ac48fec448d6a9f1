import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  auth,
  createLockedMaria,
  formClient,
  maria,
  NEW_PASSWORD,
  type TestApp,
  testApp,
} from "../../test/helpers.js";

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
  await createLockedMaria(t);
});
afterEach(() => t.close());

describe("recovery pages, without JavaScript", () => {
  it("take Maria-Rosa from the locked sign-in to a new password, in French", async () => {
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    const signinPage = await browser.get("/signin?lang=fr");
    expect(signinPage.body).toContain('<html lang="fr">');
    const blocked = await browser.post("/signin", {
      lang: "fr",
      address: maria.address,
      password: "violet tractor mirrors quietly 1987",
    });
    expect(blocked.statusCode).toBe(423);
    expect(blocked.body).toContain("Récupérer mon compte");
    const recoverLink = /href="(\/recover\?lang=fr&amp;address=[^"]+)"/
      .exec(blocked.body)?.[1]
      ?.replaceAll("&amp;", "&");
    expect(recoverLink).toBeDefined();

    const startPage = await browser.get(recoverLink!);
    expect(startPage.body).toContain(`value="${maria.address}"`);
    const started = await browser.post("/recover", { lang: "fr", address: maria.address });
    expect(started.statusCode).toBe(303);
    const channelUrl = started.headers.location as string;
    expect(channelUrl).toMatch(/^\/recover\/rc_\w+\/channel\?lang=fr$/);
    const id = channelUrl.split("/")[2]!;

    const channelPage = await browser.get(channelUrl);
    expect(channelPage.body).toContain("aucun de ces moyens de contact");
    const sent = await browser.post(`/recover/${id}/channel`, {
      lang: "fr",
      value: "maria-rosa@gmail.example",
    });
    expect(sent.headers.location).toBe(`/recover/${id}/code?lang=fr`);

    const code = (await t.lastCodeFor("maria-rosa@gmail.example"))!;
    const wrong = await browser.post(`/recover/${id}/code`, {
      lang: "fr",
      code: code === "999999" ? "111111" : "999999",
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toMatch(/Essais restants\s*: 4/);
    // The field is marked invalid, tied to the message and focused, without JavaScript.
    expect(wrong.body).toMatch(
      /<input id="code"[^>]*aria-describedby="form-error"[^>]*aria-invalid="true"[^>]*autofocus/,
    );

    // Malformed input is its own message and uses no try.
    const short = await browser.post(`/recover/${id}/code`, { lang: "fr", code: "12345" });
    expect(short.statusCode).toBe(400);
    expect(short.body).toContain("Tapez les 6 chiffres");

    const confirmed = await browser.post(`/recover/${id}/code`, { lang: "fr", code });
    expect(confirmed.headers.location).toBe(`/recover/${id}/password?lang=fr`);
    // The password token travels in an httpOnly, SameSite=Strict cookie scoped to this recovery.
    expect(String(confirmed.headers["set-cookie"])).toMatch(
      new RegExp(`sesame_recovery=[\\w-]{43}; Path=/recover/${id}; HttpOnly; SameSite=Strict`),
    );
    const passwordPage = await browser.get(`/recover/${id}/password?lang=fr`);
    expect(passwordPage.body).toContain('name="confirmation"');
    const mismatch = await browser.post(`/recover/${id}/password`, {
      lang: "fr",
      password: NEW_PASSWORD,
      confirmation: `${NEW_PASSWORD}x`,
    });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain("ne sont pas identiques");
    const weak = await browser.post(`/recover/${id}/password`, {
      lang: "fr",
      password: "azerty123",
      confirmation: "azerty123",
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain("trop facile");
    const saved = await browser.post(`/recover/${id}/password`, {
      lang: "fr",
      password: NEW_PASSWORD,
      confirmation: NEW_PASSWORD,
    });
    expect(saved.headers.location).toBe(`/recover/${id}/done?lang=fr`);
    const done = await browser.get(`/recover/${id}/done?lang=fr`);
    expect(done.body).toContain("Vous avez récupéré votre compte");

    const status = await t.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth });
    expect(status.json().status).toBe("active");
    // Going back to an earlier step sends the person to where the recovery stands.
    expect((await browser.get(`/recover/${id}/code?lang=fr`)).headers.location).toBe(
      `/recover/${id}/done?lang=fr`,
    );
  });

  it("opens a case when no backup can be reached, and shows the reference", async () => {
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    await browser.get("/recover?lang=fr");
    const id = (
      (await browser.post("/recover", { lang: "fr", address: maria.address })).headers.location as string
    ).split("/")[2]!;
    await browser.get(`/recover/${id}/no-access?lang=fr`);
    const own = await browser.post(`/recover/${id}/no-access`, { lang: "fr", contactEmail: maria.address });
    expect(own.statusCode).toBe(400);
    const opened = await browser.post(`/recover/${id}/no-access`, {
      lang: "fr",
      contactEmail: "maria.travail@example.be",
    });
    expect(opened.headers.location).toBe(`/recover/${id}/case?lang=fr`);
    const page = await browser.get(`/recover/${id}/case?lang=fr`);
    expect(page.body).toMatch(/SES-[2-9A-Z]{4}-[2-9A-Z]{4}/);
    // Plain words on when they will hear from us, no jargon; the contact shown masked.
    // Who holds the case and by when, in the person's country time (the demo's Casablanca team, 4
    // business hours: 14:00 in Brussels).
    expect(page.body).toContain("French-speaking support (Casablanca) vous écrira à");
    expect(page.body).toContain("d'ici jeudi 26 novembre à 14:00");
    expect(page.body).not.toContain("première tentative");
    expect(page.body).not.toContain("maria.travail@example.be");
  });

  it("shows the step again with a fresh form after a stale CSRF token, and changes nothing", async () => {
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    await browser.get("/recover?lang=fr");
    const forged = await browser.post("/recover", { lang: "fr", address: maria.address }, "forged-token");
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain("ce formulaire a été renouvelé");
    expect(forged.body).toContain(`value="${maria.address}"`);
    expect(await t.database.db.selectFrom("recoveries").selectAll().execute()).toEqual([]);
    // The fresh form goes through.
    const again = await browser.post("/recover", { lang: "fr", address: maria.address });
    expect(again.statusCode).toBe(303);
  });

  it("shows the help centre and the pages in all four languages", async () => {
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    const titles = {
      fr: "Comment pouvons-nous vous aider",
      nl: "Hoe kunnen we u helpen",
      en: "How can we help",
      de: "Wie können wir helfen",
    };
    for (const [lang, title] of Object.entries(titles)) {
      const home = await browser.get(`/?lang=${lang}`);
      expect(home.body).toContain(`<html lang="${lang}">`);
      expect(home.body).toContain(title);
    }
    const accepted = await t.server.inject({
      url: "/recover",
      headers: { "accept-language": "nl-BE,nl;q=0.9,en;q=0.5" },
    });
    expect(accepted.body).toContain('<html lang="nl">');
  });
});

describe("recovery pages, as a stressed person meets them", () => {
  const startRecovery = async (browser: ReturnType<typeof formClient>) => {
    await browser.get("/recover?lang=fr");
    const started = await browser.post("/recover", { lang: "fr", address: maria.address });
    return (started.headers.location as string).split("/")[2]!;
  };

  it("gives each field its own message, in the page's language", async () => {
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    await browser.get("/recover?lang=fr");
    const emptyStart = await browser.post("/recover", { lang: "fr", address: "" });
    expect(emptyStart.statusCode).toBe(400);
    expect(emptyStart.body).toContain("Tapez l'adresse du compte");
    const partial = await browser.post("/recover", { lang: "fr", address: "maria-rosa" });
    expect(partial.body).toContain("Tapez l'adresse complète, par exemple prenom.nom@exemple.be");
    expect(partial.body).not.toContain("gmail.com");

    const id = await startRecovery(browser);
    await browser.get(`/recover/${id}/channel?lang=fr`);
    const empty = await browser.post(`/recover/${id}/channel`, { lang: "fr", value: "" });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain("Tapez une adresse e-mail ou un numéro de téléphone de secours");
    expect(empty.body).not.toContain("numéro de téléphone n'est pas valide");
    const noAt = await browser.post(`/recover/${id}/channel`, { lang: "fr", value: "maria-rosa" });
    expect(noAt.body).toContain("par exemple prenom.nom@exemple.be");
    // The locked address itself: they need another one, and nothing is sent.
    const own = await browser.post(`/recover/${id}/channel`, { lang: "fr", value: maria.address });
    expect(own.statusCode).toBe(400);
    expect(own.body).toContain("C'est l'adresse du compte bloqué");
    expect(await t.messages()).toEqual([]);

    const password = await browser.post(`/recover/${id}/password`, { lang: "fr", password: "" });
    expect(password.statusCode).toBe(400);
  });

  it("says a newer code was sent when the older mail's code is typed", async () => {
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    const id = await startRecovery(browser);
    await browser.get(`/recover/${id}/channel?lang=fr`);
    await browser.post(`/recover/${id}/channel`, { lang: "fr", value: "maria-rosa@gmail.example" });
    const older = (await t.lastCodeFor("maria-rosa@gmail.example"))!;
    await browser.get(`/recover/${id}/channel?lang=fr`);
    await browser.post(`/recover/${id}/channel`, { lang: "fr", value: "maria-rosa@gmail.example" });
    await browser.get(`/recover/${id}/code?lang=fr`);
    const stale = await browser.post(`/recover/${id}/code`, { lang: "fr", code: older });
    expect(stale.body).toContain("Un code plus récent a été envoyé");
    expect(stale.body).not.toContain("Essais restants");
  });

  it("confirms by the mail's link, then sets the password with the token cookie", async () => {
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    const id = await startRecovery(browser);
    await browser.get(`/recover/${id}/channel?lang=fr`);
    await browser.post(`/recover/${id}/channel`, { lang: "fr", value: "maria-rosa@gmail.example" });
    const mail = (await t.messages()).at(-1)!;
    const link = /http:\/\/sesame\.test(\/recover\/link\?token=[\w-]+&lang=fr)/.exec(mail.body)![1]!;
    const page = await browser.get(link);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Confirmez que c'est bien vous");
    const confirmed = await browser.post("/recover/link", {
      lang: "fr",
      token: new URL(`http://x${link}`).searchParams.get("token")!,
    });
    expect(confirmed.headers.location).toBe(`/recover/${id}/password?lang=fr`);
    await browser.get(`/recover/${id}/password?lang=fr`);
    const saved = await browser.post(`/recover/${id}/password`, {
      lang: "fr",
      password: NEW_PASSWORD,
      confirmation: NEW_PASSWORD,
    });
    expect(saved.headers.location).toBe(`/recover/${id}/done?lang=fr`);
  });

  it("refuses the password without the token the code step gave", async () => {
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    const id = await startRecovery(browser);
    await browser.get(`/recover/${id}/channel?lang=fr`);
    await browser.post(`/recover/${id}/channel`, { lang: "fr", value: "maria-rosa@gmail.example" });
    const code = (await t.lastCodeFor("maria-rosa@gmail.example"))!;
    await t.server.inject({ method: "POST", url: `/api/v1/recovery/${id}/code`, payload: { code } });
    // Someone who only knows the recovery id (say from a log) has no token cookie.
    await browser.get(`/recover/${id}/password?lang=fr`);
    const refused = await browser.post(`/recover/${id}/password`, {
      lang: "fr",
      password: NEW_PASSWORD,
      confirmation: NEW_PASSWORD,
    });
    expect(refused.statusCode).toBe(403);
    const status = await t.server.inject({ url: `/api/v1/accounts/${maria.address}`, headers: auth });
    expect(status.json().status).toBe("locked");
  });

  it("keeps 'I can't reach any of these' reachable when starting is capped", async () => {
    await t.close();
    t = await testApp({ SESAME_RECOVERIES_PER_ACCOUNT_PER_HOUR: "1" });
    await createLockedMaria(t);
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    await startRecovery(browser);
    await browser.get("/recover?lang=fr");
    const capped = await browser.post("/recover", { lang: "fr", address: maria.address });
    expect(capped.statusCode).toBe(429);
    expect(capped.headers["retry-after"]).toBe("3600");
    expect(capped.body).toContain("60 minutes");
    expect(capped.body).toContain('href="/recover/no-access?lang=fr"');
    await browser.get("/recover/no-access?lang=fr");
    const opened = await browser.post("/recover/no-access", {
      lang: "fr",
      address: maria.address,
      contactEmail: "maria.travail@example.be",
    });
    expect(opened.statusCode).toBe(303);
    const page = await browser.get(opened.headers.location as string);
    expect(page.body).toMatch(/SES-[2-9A-Z]{4}-[2-9A-Z]{4}/);
  });

  it("mentions the open case after the code is confirmed", async () => {
    const browser = formClient(t, { acceptLanguage: "fr-BE" });
    const first = await startRecovery(browser);
    await browser.get(`/recover/${first}/no-access?lang=fr`);
    await browser.post(`/recover/${first}/no-access`, {
      lang: "fr",
      contactEmail: "maria.travail@example.be",
    });
    const id = await startRecovery(browser);
    await browser.get(`/recover/${id}/channel?lang=fr`);
    await browser.post(`/recover/${id}/channel`, { lang: "fr", value: "maria-rosa@gmail.example" });
    await browser.get(`/recover/${id}/code?lang=fr`);
    await browser.post(`/recover/${id}/code`, {
      lang: "fr",
      code: (await t.lastCodeFor("maria-rosa@gmail.example"))!,
    });
    const page = await browser.get(`/recover/${id}/password?lang=fr`);
    expect(page.body).toMatch(/Votre dossier d'assistance SES-\w{4}-\w{4} reste ouvert/);
  });

  it("answers an unknown recovery with a localised 404 page", async () => {
    const page = await t.server.inject({ url: "/recover/rc_unknownunknownunknown/channel?lang=fr" });
    expect(page.statusCode).toBe(404);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain("Cette récupération n'existe pas");
  });
});
