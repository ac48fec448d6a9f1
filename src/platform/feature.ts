import type { FastifyInstance } from "fastify";
import type { PublicRateLimit } from "../web/http.js";
import type { Platform } from "./context.js";

/** Background work of a feature (the outbox, the timers): started by `serve`, stopped on close. */
export interface Worker {
  start(): void;
  stop(): Promise<void>;
}

/** What the HTTP side of every feature shares. */
export interface WebContext {
  publicRateLimit: PublicRateLimit;
  secureCookies: boolean;
  /** SESAME_API_TOKEN, for the service routes. */
  apiToken: string | null;
}

/**
 * One feature as the server sees it: its routes and its workers. Its tables, migrations, error
 * codes and messages are its own files too (`schema.ts`, `migrations/`, `errors.ts`,
 * `messages.ts`), from which the central lists are built.
 */
export interface Feature {
  readonly name: string;
  routes?(server: FastifyInstance, web: WebContext): Promise<void>;
  workers?: Worker[];
}

export type { Platform };
