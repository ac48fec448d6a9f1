import * as m005 from "./005_timers.js";

export const timersMigrations = { "005_timers": m005 };
