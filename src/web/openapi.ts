import type { FastifyDynamicSwaggerOptions } from "@fastify/swagger";

/**
 * The OpenAPI document, completed in one place so every route (present and future) gets an
 * operationId, a description and a declared tag without each route spelling them out.
 */
export const apiTags = [
  { name: "accounts", description: "The built-in account directory, for integrations (service token)." },
  { name: "sign-in", description: "Signing in to the built-in directory and reading a session." },
  { name: "recovery", description: "The self-service recovery journey, step by step." },
  { name: "development", description: "Development aids; refused in production." },
];

type Transform = NonNullable<FastifyDynamicSwaggerOptions["transform"]>;
type TransformObject = NonNullable<FastifyDynamicSwaggerOptions["transformObject"]>;

const API_PREFIX = /^\/api\/v\d+\//;
const capitalize = (word: string) => (word ? `${word[0]!.toUpperCase()}${word.slice(1)}` : "");

/** `POST /api/v1/accounts/:address/lock` -> `postAccountsByAddressLock`. */
export const operationIdOf = (method: string, url: string): string =>
  method.toLowerCase() +
  url
    .replace(API_PREFIX, "/")
    .split("/")
    .filter(Boolean)
    .map((segment) =>
      (segment.startsWith(":") ? `by-${segment.slice(1)}` : segment)
        .split(/[^A-Za-z0-9]+/)
        .map(capitalize)
        .join(""),
    )
    .join("");

/** The tag of an untagged route: the first path segment after the API version (`/api/v1/cases/...` -> cases). */
const tagOf = (url: string) => url.replace(API_PREFIX, "").split("/")[0] || "api";

interface OperationSchema {
  hide?: boolean;
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
}

export const documentOperation: Transform = ({ schema, url, route }) => {
  const declared = (schema ?? {}) as OperationSchema;
  if (declared.hide) return { schema, url };
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  const completed: OperationSchema = {
    ...declared,
    operationId: declared.operationId ?? operationIdOf(method, url),
    description: declared.description ?? declared.summary ?? `${method} ${url}`,
    tags: declared.tags?.length ? declared.tags : [tagOf(url)],
  };
  return { url, schema: completed as typeof schema };
};

/** Declares every tag an operation uses: the known ones with their description, any other by name. */
export const declareTags: TransformObject = (documentObject) => {
  if (!("openapiObject" in documentObject)) return documentObject.swaggerObject;
  const { openapiObject } = documentObject;
  const document = openapiObject as {
    tags?: Array<{ name: string; description?: string }>;
    paths?: Record<string, Record<string, { tags?: string[] }>>;
  };
  const tags = [...(document.tags ?? [])];
  for (const operations of Object.values(document.paths ?? {}))
    for (const operation of Object.values(operations))
      for (const tag of operation.tags ?? [])
        if (!tags.some((known) => known.name === tag))
          tags.push({ name: tag, description: `Operations on ${tag}.` });
  return { ...openapiObject, tags };
};
