/**
 * Every "now" in Sesame comes from a Clock. `manual` lets tests and demos move time forward
 * instead of sleeping (SESAME_CLOCK=manual, POST /api/v1/dev/clock).
 */
export interface Clock {
  readonly kind: "system" | "manual";
  now(): number;
}

export const systemClock: Clock = { kind: "system", now: () => Date.now() };

export class ManualClock implements Clock {
  readonly kind = "manual";
  constructor(private current = Date.now()) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): number {
    this.current += ms;
    return this.current;
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
