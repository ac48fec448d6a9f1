import * as m010 from "./010_live_code_indexes.js";

export const recoveryMigrations = { "010_live_code_indexes": m010 };
