import { accountsApi } from "./accounts/api.js";
import { accountsPages } from "./accounts/pages.js";
import { AccountsService } from "./accounts/service.js";
import { casesPages } from "./cases/pages.js";
import { CasesService } from "./cases/service.js";
import { devApi } from "./dev/api.js";
import { helpPages } from "./help/pages.js";
import type { OutboxDispatcher } from "./messaging/dispatcher.js";
import type { Platform } from "./platform/context.js";
import type { Feature } from "./platform/feature.js";
import { recoveryApi } from "./recovery/api.js";
import { recoveryPages } from "./recovery/pages.js";
import { RecoveryService } from "./recovery/service.js";
import { builtInHousekeeping, registerHousekeeping } from "./timers/housekeeping.js";
import { webAssets } from "./web/pages.js";

/** The use-cases of every feature, built once; a feature reaches another through these. */
export function buildServices(platform: Platform) {
  const accounts = new AccountsService(platform);
  const cases = new CasesService(platform);
  const recovery = new RecoveryService(platform, accounts, cases);
  return { accounts, cases, recovery };
}

export type Services = ReturnType<typeof buildServices>;

/** Every feature, in the order its routes are registered. */
export function buildFeatures(
  platform: Platform,
  services: Services,
  parts: { dispatcher: OutboxDispatcher; capturedChannels: Array<"email" | "sms"> },
): Feature[] {
  const { accounts, cases, recovery } = services;
  // Every growing table has a job here; a feature adds its own to this list.
  registerHousekeeping(platform.timers, [...builtInHousekeeping(platform.config.housekeeping)]);
  return [
    { name: "messaging", workers: [parts.dispatcher] },
    { name: "timers", workers: [platform.timers.worker] },
    {
      name: "accounts",
      routes: async (server, web) => {
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
          publicRateLimit: web.publicRateLimit,
          secureCookies: web.secureCookies,
        });
      },
    },
    { name: "cases", routes: async (server) => void (await server.register(casesPages, { cases })) },
    {
      name: "web",
      routes: async (server, web) => {
        await server.register(devApi, {
          platform,
          apiToken: web.apiToken,
          capturedChannels: parts.capturedChannels,
        });
        await server.register(webAssets);
        await server.register(helpPages);
      },
    },
  ];
}
