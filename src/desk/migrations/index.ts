import * as m006 from "./006_desk.js";
import * as m009 from "./009_open_case_index.js";

export const deskMigrations = { "006_desk": m006, "009_open_case_index": m009 };
