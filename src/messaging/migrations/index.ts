export const mailMigrations = {};
