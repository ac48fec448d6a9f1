import * as m006 from "./006_desk.js";

export const deskMigrations = { "006_desk": m006 };
