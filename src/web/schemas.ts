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

/** Response map with the error shape on every listed status. */
export const withErrors = (ok: Record<number, TSchema>, errorStatuses: number[]) => {
  const responses: Record<number, TSchema> = { ...ok };
  for (const status of errorStatuses) responses[status] = Type.Ref("ErrorBody");
  return responses;
};
