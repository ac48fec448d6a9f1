import { type TSchema, Type } from "@sinclair/typebox";

/** Schemas shared by several features' routes. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true }),
  },
  { $id: "ErrorBody" },
);

export const Email = Type.String({ minLength: 3, maxLength: 254 });
export const Password = Type.String({ minLength: 1, maxLength: 1024 });
export const LocaleParam = Type.Optional(Type.String({ maxLength: 35 }));

/** What each error status means, as the OpenAPI document says it. */
const errorDescriptions: Record<number, string> = {
  400: "Bad input: the coded error says what (ERR_VALIDATION and others)",
  401: "Missing or wrong credentials (service token, session or password)",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict with the current state",
  410: "Gone: expired",
  413: "The body is too large",
  415: "The body is not application/json",
  423: "The account is locked",
  429: "Too many requests: see Retry-After",
  503: "A dependency is unavailable: try again later",
};

/** Response map with the named error schema, and a description, on every listed status. */
export const withErrors = (ok: Record<number, TSchema>, errorStatuses: number[]) => {
  const responses: Record<number, TSchema> = { ...ok };
  for (const status of errorStatuses)
    responses[status] = Type.Ref("ErrorBody", { description: errorDescriptions[status] ?? "Coded error" });
  return responses;
};
