/** The timers' own table (see migrations/005_timers.ts). */
export interface TimersTables {
  timers: TimersTable;
}

export interface TimersTable {
  id: string;
  /** What fires, e.g. "sla.first_response" or "housekeeping:outbox": the handler registered under it. */
  kind: string;
  /** What it is about (a case id, a job name): one timer per (kind, subject). */
  subject: string;
  due_at: number;
  /** Claimed by a node until then; after a failed handler, not retried before then. */
  lease_until: number | null;
  /** Claims so far (each firing attempt): the backoff after failures grows with it. */
  attempts: number;
  /** JSON text, or null. */
  payload: string | null;
  created_at: number;
}
