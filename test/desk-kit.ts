/**
 * What the desk's tests share: a case opened through the public API, a case read with the service
 * token, the clock moved with the timers fired, agents with a personal token, and real SMTP to the
 * inbound listener. Used by tests only.
 */
import nodemailer from "nodemailer";
import { type ReadyAgent, readyAgent } from "../src/agents/testing.js";
import type { InboundListener } from "../src/messaging/inbound/listener.js";
import type { OutboxRow } from "../src/messaging/outbox.js";
import { mailOptions } from "../src/messaging/transports.js";
import { auth, type TestApp } from "./helpers.js";

/** The test clock's start: Thursday 26 November 2026, 09:00 UTC (US Thanksgiving). */
export const START = Date.UTC(2026, 10, 26, 9, 0, 0);

export function deskKit(t: TestApp) {
  const listeners: InboundListener[] = [];
  return {
    /** POST /api/v1/cases as a French speaker from Belgium, with `body` overriding fields. */
    openCase: (body: Record<string, unknown> = {}) =>
      t.server.inject({
        method: "POST",
        url: "/api/v1/cases",
        headers: { "content-type": "application/json" },
        payload: {
          contactEmail: "marie@example.be",
          language: "fr",
          country: "BE",
          subject: "Ma boîte est bloquée",
          body: "Après un virus, ma boîte est bloquée.",
          ...body,
        },
      }),
    getCase: (ref: string, headers: Record<string, string> = auth) =>
      t.server.inject({ method: "GET", url: `/api/v1/cases/${ref}`, headers }),
    /** Moves the clock to `instant`, fires what is due, and returns the mail and SMS delivered. */
    at: async (instant: number) => {
      t.clock.advance(instant - t.clock.now());
      await t.app.platform.timers.runDue();
      return t.messages();
    },
    /** An agent whose setup is done, and the Authorization header of a personal token. */
    agentWithToken: async (input: {
      email: string;
      role?: "agent" | "supervisor" | "admin";
      teams: string[];
    }) => {
      const agent: ReadyAgent = await readyAgent(t.app.services.agents, t.clock, input);
      const token = await t.app.services.agents.issueToken(agent.email);
      return { agent, headers: { authorization: `Bearer ${token}` } };
    },
    mailsTo: async (recipient: string) => (await t.messages()).filter((m) => m.recipient === recipient),
    /** The app's SMTP listener on a free port, and a client that speaks to it. */
    listen: async () => {
      const listener = await t.app.startInboundMail({ port: 0 });
      listeners.push(listener);
      return nodemailer.createTransport({
        host: "127.0.0.1",
        port: listener.port,
        secure: false,
        ignoreTLS: true,
      });
    },
    /** The Message-ID a queued mail goes out with (signed when it is about a case). */
    messageIdOf: (row: OutboxRow) =>
      mailOptions(row, "Sesame <no-reply@support.example>").messageId as string,
    close: async () => {
      await Promise.all(listeners.splice(0).map((listener) => listener.close()));
    },
  };
}
