import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../platform/errors.js";
import { bearerOf, requestLocale } from "../web/http.js";
import type { Role, Viewer } from "./model.js";
import type { AgentsService } from "./service.js";

export type { Role, Viewer } from "./model.js";
export { canSeeTeam } from "./model.js";
export { AgentsService, auditAgentAct } from "./service.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Who is asking, set by agentApiGuard / agentPageGuard. */
    viewer?: Viewer;
  }
}

/** The cookie of an agent's console session (httpOnly, SameSite=Strict, Secure under https). */
export const AGENT_SESSION_COOKIE = "sesame_agent";

const sameSecret = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * onRequest hook of the agent JSON routes: a personal agent token (Bearer), or SESAME_API_TOKEN where
 * `allowService`. Sets `request.viewer`; 401 ERR_AGENT_UNAUTHORIZED without valid credentials, 403
 * ERR_FORBIDDEN for the service token where integrations are not allowed or a role not in `roles`.
 * It runs before the body is parsed, so an anonymous caller learns nothing of what the route expects.
 */
export function agentApiGuard(
  agents: AgentsService,
  opts: { allowService: boolean; apiToken: string | null; roles?: readonly Role[] },
) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const presented = bearerOf(request);
    if (!presented) throw new AppError("ERR_AGENT_UNAUTHORIZED");
    if (opts.apiToken && sameSecret(presented, opts.apiToken)) {
      if (!opts.allowService) throw new AppError("ERR_FORBIDDEN");
      request.viewer = { kind: "service" };
      return;
    }
    const viewer = await agents.viewerFromBearer(presented);
    if (!viewer) throw new AppError("ERR_AGENT_UNAUTHORIZED");
    if (opts.roles && viewer.kind === "agent" && !opts.roles.includes(viewer.role))
      throw new AppError("ERR_FORBIDDEN");
    request.viewer = viewer;
  };
}

/**
 * onRequest hook of the console pages: the session cookie's agent in `request.viewer`; without a live
 * session, a redirect to the sign-in page (303); a role not in `roles` gets the 403 error page.
 */
export function agentPageGuard(agents: AgentsService, roles?: readonly Role[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const viewer = await agents.viewerFromSession(request.cookies[AGENT_SESSION_COOKIE]);
    if (!viewer)
      return reply
        .code(303)
        .header("location", `/agent/signin?lang=${requestLocale(request)}`)
        .send();
    if (roles && viewer.kind === "agent" && !roles.includes(viewer.role)) throw new AppError("ERR_FORBIDDEN");
    request.viewer = viewer;
  };
}
