import * as m010 from "./010_live_codes_index.js";

export const recoveryMigrations = { "010_live_codes_index": m010 };
