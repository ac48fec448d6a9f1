import * as m008 from "./008_mail.js";

export const mailMigrations = { "008_mail": m008 };
