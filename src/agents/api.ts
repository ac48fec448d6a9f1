import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { withErrors } from "../web/schemas.js";
import { agentApiGuard } from "./guard.js";
import { roles } from "./model.js";
import type { AgentsService } from "./service.js";

const Role = Type.Union(roles.map((role) => Type.Literal(role)));

const Me = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Role,
  teams: Type.Array(Type.String()),
});

const AgentList = Type.Object({
  agents: Type.Array(
    Type.Object({
      id: Type.String(),
      email: Type.String(),
      name: Type.String(),
      role: Role,
      teams: Type.Array(Type.String()),
      ready: Type.Boolean(),
      disabled: Type.Boolean(),
    }),
  ),
});

/** The agents' own JSON routes: who am I, and the list of agents (supervisors, admins, integrations). */
export async function agentsApi(
  app: FastifyInstance,
  opts: { agents: AgentsService; apiToken: string | null },
) {
  const { agents, apiToken } = opts;

  app.get(
    "/api/v1/agent/me",
    {
      onRequest: agentApiGuard(agents, { allowService: false, apiToken }),
      schema: {
        tags: ["agents"],
        summary: "The agent behind the personal token",
        security: [{ agentToken: [] }],
        response: withErrors({ 200: Me }, [401, 403]),
      },
    },
    async (request) => {
      const viewer = request.viewer!;
      if (viewer.kind !== "agent") throw new Error("agentApiGuard let a non-agent through");
      return {
        id: viewer.agentId,
        email: viewer.email,
        name: viewer.name,
        role: viewer.role,
        teams: viewer.teams,
      };
    },
  );

  app.get(
    "/api/v1/agents",
    {
      onRequest: agentApiGuard(agents, { allowService: true, apiToken, roles: ["supervisor", "admin"] }),
      schema: {
        tags: ["agents"],
        summary: "Every agent, with role and teams (supervisors, admins, integrations)",
        security: [{ agentToken: [] }, { serviceToken: [] }],
        response: withErrors({ 200: AgentList }, [401, 403]),
      },
    },
    async (request) => ({ agents: await agents.listAgents(request.viewer!) }),
  );
}
