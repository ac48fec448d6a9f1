/** The desk's own tables (the `cases` table itself is older: see db/schema.ts, extended by 006_desk). */
export interface DeskTables {
  case_surveys: CaseSurveysTable;
}

/** What 006_desk adds to `cases`: routing, tier, SLA deadlines (denormalised for the queues). */
export interface DeskCaseColumns {
  /** Language the person asked in (fr, nl, en, de, or another BCP 47 base tag): picks the tier-1 team. */
  language: string;
  /** ISO 3166 alpha-2, or null when unknown: picks the country team. */
  country: string | null;
  tier: number;
  /** Team id from the organisation config. */
  team: string;
  priority: string;
  subject: string | null;
  /** The caller's number (E.164) when the case came by phone. */
  contact_phone: string | null;
  /** When the case reached its current tier (per-tier clocks start here). */
  tier_since: number;
  /** First public answer at the current tier, or null. */
  first_response_at: number | null;
  due_first_response: number | null;
  due_next_update: number | null;
  due_resolution: number | null;
  /** The nearest of the three: the queue's order. Null while paused or resolved. */
  next_due: number | null;
  /** Waiting on the customer since: per-tier clocks pause (the customer clock never does). */
  paused_at: number | null;
  resolved_at: number | null;
}

export interface CaseSurveysTable {
  id: string;
  case_id: string;
  contact_id: string;
  token_hash: string;
  created_at: number;
  sent_at: number | null;
  answered_at: number | null;
  voided_at: number | null;
  score: number | null;
  comment: string | null;
}
