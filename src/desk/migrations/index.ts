import * as m006 from "./006_desk.js";
import * as m009 from "./009_desk_indexes.js";

export const deskMigrations = { "006_desk": m006, "009_desk_indexes": m009 };
