import { calendarOf } from "./calendar.js";
import { businessMinutesOf, type Organisation, type SlaPolicy, type Team } from "./model.js";

/**
 * SLA targets and deadlines. Targets are business durations of the receiving team: "4h" is 4 business
 * hours, "3d" is 3 x the team's working day (maastricht 08:00-18:00: 3 x 10 h = 30 business hours).
 * Deadlines are counted from `from` in that team's calendar, so a start outside business hours counts
 * from the next opening (see calendar.ts for the rules, docs/desk/organisation.md for worked examples).
 */

/** The policy of a tier and priority: its own if the config has one, else the tier's "normal" one. */
export function slaPolicy(org: Organisation, tier: number, priority = "normal"): SlaPolicy | undefined {
  return (
    org.sla.find((policy) => policy.tier === tier && policy.priority === priority) ??
    org.sla.find((policy) => policy.tier === tier && policy.priority === "normal")
  );
}

/**
 * Targets in business minutes. Business days ("d") need a team's working-day length: pass the team;
 * without one, the first team of that tier in the config is used.
 */
export function slaTargets(
  org: Organisation,
  tier: number,
  priority = "normal",
  team?: Team,
): { firstResponseMin?: number; nextUpdateMin?: number; resolutionMin?: number } {
  const policy = slaPolicy(org, tier, priority);
  if (policy === undefined) return {};
  const unit = team ?? org.teams.find((candidate) => candidate.tier === tier);
  if (unit === undefined) return {};
  const result: { firstResponseMin?: number; nextUpdateMin?: number; resolutionMin?: number } = {};
  if (policy.firstResponse) result.firstResponseMin = businessMinutesOf(policy.firstResponse, unit);
  if (policy.nextUpdate) result.nextUpdateMin = businessMinutesOf(policy.nextUpdate, unit);
  if (policy.resolution) result.resolutionMin = businessMinutesOf(policy.resolution, unit);
  return result;
}

/**
 * Deadlines of a case that reached `team` (at its tier) at `from`, for its priority, as epoch-ms.
 * A target the tier's policy does not set is absent. For a next update, pass the instant of the last
 * public answer as `from`.
 */
export function deadlines(
  org: Organisation,
  team: Team,
  from: number,
  priority = "normal",
): { firstResponse?: number; nextUpdate?: number; resolution?: number } {
  const targets = slaTargets(org, team.tier, priority, team);
  const calendar = calendarOf(team);
  const result: { firstResponse?: number; nextUpdate?: number; resolution?: number } = {};
  if (targets.firstResponseMin !== undefined)
    result.firstResponse = calendar.addBusinessMinutes(from, targets.firstResponseMin);
  if (targets.nextUpdateMin !== undefined)
    result.nextUpdate = calendar.addBusinessMinutes(from, targets.nextUpdateMin);
  if (targets.resolutionMin !== undefined)
    result.resolution = calendar.addBusinessMinutes(from, targets.resolutionMin);
  return result;
}
