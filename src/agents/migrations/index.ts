export const agentsMigrations = {};
