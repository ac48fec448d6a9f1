import { defineMessages } from "../platform/messages.js";

/** Messages of this feature in the four languages; the central catalogues spread them. */
export const timersMessages = defineMessages({ en: {}, fr: {}, nl: {}, de: {} });
