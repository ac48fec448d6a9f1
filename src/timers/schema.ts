export type TimersTables = {};
