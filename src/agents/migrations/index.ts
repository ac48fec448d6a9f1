import * as m007 from "./007_agents.js";

export const agentsMigrations = { "007_agents": m007 };
