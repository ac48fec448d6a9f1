export const timersMigrations = {};
