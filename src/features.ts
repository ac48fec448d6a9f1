import { accountsApi } from "./accounts/api.js";
import { accountsPages } from "./accounts/pages.js";
import { decoyPasswordHash } from "./accounts/passwords.js";
import { AccountsService } from "./accounts/service.js";
import { agentsApi } from "./agents/api.js";
import { agentsPages } from "./agents/pages.js";
import { AgentsService } from "./agents/service.js";
import { agentSettings } from "./agents/settings.js";
import { deskApi } from "./desk/api.js";
import { CasesService } from "./desk/cases.js";
import { deskConsole } from "./desk/console.js";
import { deskPages } from "./desk/pages.js";
import { DeskService } from "./desk/service.js";
import { devApi } from "./dev/api.js";
import { helpPages } from "./help/pages.js";
import type { OutboxDispatcher } from "./messaging/dispatcher.js";
import { purgeInboundMessages } from "./messaging/inbound/store.js";
import type { Platform } from "./platform/context.js";
import type { Feature } from "./platform/feature.js";
import { recoveryApi } from "./recovery/api.js";
import { recoveryPages } from "./recovery/pages.js";
import { RecoveryService } from "./recovery/service.js";
import { builtInHousekeeping, registerHousekeeping } from "./timers/housekeeping.js";
import { webAssets } from "./web/pages.js";

/** Message-IDs of mail taken in are kept this long, to drop an SMTP client's late retry. */
const INBOUND_MAIL_RETENTION_MS = 30 * 24 * 3_600_000;

/** The use-cases of every feature, built once; a feature reaches another through these. */
export function buildServices(platform: Platform) {
  const accounts = new AccountsService(platform);
  const cases = new CasesService(platform);
  const desk = new DeskService(platform, cases, accounts);
  const recovery = new RecoveryService(platform, accounts, cases);
  // The agents' settings come from the environment until config.ts carries them (see docs/desk/agents.md).
  const agents = new AgentsService(platform, agentSettings(process.env));
  return { accounts, cases, desk, recovery, agents };
}

export type Services = ReturnType<typeof buildServices>;

/** Every feature, in the order its routes are registered. */
export function buildFeatures(
  platform: Platform,
  services: Services,
  parts: { dispatcher: OutboxDispatcher; capturedChannels: Array<"email" | "sms"> },
): Feature[] {
  const { accounts, cases, desk, recovery, agents } = services;
  // Every growing table has a job here; a feature adds its own to this list.
  registerHousekeeping(platform.timers, [
    ...builtInHousekeeping(platform.config.housekeeping),
    {
      name: "inbound_mail",
      ...platform.config.housekeeping.outbox,
      retainMs: INBOUND_MAIL_RETENTION_MS,
      purge: async (tx, cutoff) => (await purgeInboundMessages(tx, cutoff)) < 0,
    },
    {
      name: "agent_credentials",
      ...platform.config.housekeeping.sessions,
      // Retention is the agents' own (30 days after a session or token ended).
      purge: async (tx) => {
        await agents.purgeEnded(tx);
        return false;
      },
    },
  ]);
  return [
    { name: "messaging", workers: [parts.dispatcher] },
    { name: "timers", workers: [platform.timers.worker] },
    {
      name: "accounts",
      routes: async (server, web) => {
        // Hashed before the first request: else the first sign-in for an unknown address after a
        // start would hash twice (the decoy, then the check), and take twice as long as any other.
        server.addHook("onReady", async () => {
          await decoyPasswordHash();
        });
        await server.register(accountsApi, {
          accounts,
          apiToken: web.apiToken,
          publicUrl: platform.config.publicUrl,
          publicRateLimit: web.publicRateLimit,
        });
        await server.register(accountsPages, {
          accounts,
          openCaseRefOf: (address) => cases.openCaseRefOf(address),
          publicRateLimit: web.publicRateLimit,
          secureCookies: web.secureCookies,
        });
      },
    },
    {
      name: "recovery",
      routes: async (server, web) => {
        await server.register(recoveryApi, { recovery, publicRateLimit: web.publicRateLimit });
        await server.register(recoveryPages, {
          recovery,
          desk,
          publicRateLimit: web.publicRateLimit,
          secureCookies: web.secureCookies,
        });
      },
    },
    {
      name: "agents",
      routes: async (server, web) => {
        await server.register(agentsApi, { agents, apiToken: web.apiToken });
        await server.register(agentsPages, {
          agents,
          publicRateLimit: web.publicRateLimit,
          secureCookies: web.secureCookies,
        });
      },
    },
    {
      name: "desk",
      routes: async (server, web) => {
        await server.register(deskApi, {
          desk,
          agents,
          apiToken: web.apiToken,
          publicRateLimit: web.publicRateLimit,
        });
        await server.register(deskPages, { desk, publicRateLimit: web.publicRateLimit });
        await server.register(deskConsole, { desk, agents });
      },
    },
    {
      name: "web",
      routes: async (server, web) => {
        await server.register(devApi, {
          platform,
          apiToken: web.apiToken,
          capturedChannels: parts.capturedChannels,
        });
        await server.register(webAssets);
        await server.register(helpPages, { desk });
      },
    },
  ];
}
