import swagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { apiTags, declareTags, documentOperation } from "./openapi.js";
import { ErrorBody } from "./schemas.js";

/** The OpenAPI document of the JSON API, built from the routes' own schemas, at /api/docs. */
export async function registerApiDocs(server: FastifyInstance, publicUrl: string): Promise<void> {
  await server.register(swagger, {
    openapi: {
      info: {
        title: "Sesame API",
        version: "1",
        description: "Account recovery and support escalation.",
        contact: { name: "Sesame", url: `${publicUrl}/` },
        license: { name: "AGPL-3.0-or-later", url: "https://www.gnu.org/licenses/agpl-3.0.html" },
      },
      servers: [{ url: publicUrl, description: "This Sesame (PUBLIC_URL)" }],
      tags: apiTags,
      components: {
        securitySchemes: {
          serviceToken: { type: "http", scheme: "bearer", description: "SESAME_API_TOKEN" },
          session: { type: "http", scheme: "bearer", description: "A session from POST /api/v1/signin" },
          agentToken: {
            type: "http",
            scheme: "bearer",
            description: "An agent's personal API token (sesame agent token)",
          },
        },
      },
    },
    transform: documentOperation,
    transformObject: declareTags,
    // Shared schemas keep their name in the document (#/components/schemas/ErrorBody, not def-0).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  server.addSchema(ErrorBody);
  server.get("/api/docs", { schema: { hide: true } }, async () => server.swagger());
}
