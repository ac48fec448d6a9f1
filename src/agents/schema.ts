export type AgentsTables = {};
