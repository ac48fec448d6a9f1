import spectralCore from "@stoplight/spectral-core";
import { oas } from "@stoplight/spectral-rulesets";
import { afterEach, describe, expect, it } from "vitest";
import { type TestApp, testApp } from "../../test/helpers.js";
import { operationIdOf } from "./openapi.js";

const { Spectral } = spectralCore;

let t: TestApp;
afterEach(() => t.close());

interface Operation {
  operationId?: string;
  description?: string;
  tags?: string[];
  responses: Record<
    string,
    { description?: string; content?: Record<string, { schema: { $ref?: string } }> }
  >;
}

describe("OpenAPI document", () => {
  it("passes spectral:oas (recommended rules, as `spectral lint` runs it) with no finding at all", async () => {
    t = await testApp();
    const document = (await t.server.inject({ url: "/api/docs" })).json();
    const spectral = new Spectral();
    spectral.setRuleset({ extends: [[oas, "recommended"]] } as never);
    const findings = await spectral.run(JSON.stringify(document));
    expect(findings.map((f) => `${f.code} ${f.path.join(".")}: ${f.message}`)).toEqual([]);
  });

  it("names every operation, describes every response and points errors at the named error schema", async () => {
    t = await testApp();
    const document = (await t.server.inject({ url: "/api/docs" })).json() as {
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, unknown> };
    };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );
    expect(operations.length).toBeGreaterThan(10);
    expect(Object.keys(document.components.schemas)).toContain("ErrorBody");
    for (const { path, method, operation } of operations) {
      expect(operation.operationId, path).toBe(operationIdOf(method, path.replace(/\{(\w+)\}/g, ":$1")));
      expect(operation.description, path).toBeTruthy();
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${method} ${path} ${status}`).toBeTruthy();
        if (Number(status) >= 400) {
          expect(response.description, `${method} ${path} ${status}`).not.toBe("Default Response");
          const ref = response.content?.["application/json"]?.schema.$ref;
          expect(ref, `${method} ${path} ${status}`).toBe("#/components/schemas/ErrorBody");
        }
      }
    }
    expect(operationIdOf("POST", "/api/v1/accounts/:address/lock")).toBe("postAccountsByAddressLock");
  });
});
