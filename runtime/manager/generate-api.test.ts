// The committed OpenAPI document and client types must match the route schemas: a route or field
// added without `npm run gen:api` fails here (and so in CI) instead of drifting from the client.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { DOCUMENT_FILE, generateApi, TYPES_FILE } from "./generate-api.js";

const STALE = "is stale: run `npm run gen:api` and commit runtime/client/";

describe("the generated API client", () => {
  it("the committed OpenAPI document and types match the route schemas", async () => {
    const fresh = await generateApi();
    const [document, types] = await Promise.all([readFile(DOCUMENT_FILE, "utf8"), readFile(TYPES_FILE, "utf8")]);
    // Compared as data first, so a failure names the paths that differ rather than a line of text.
    expect(JSON.parse(document), `runtime/client/openapi.json ${STALE}`).toEqual(JSON.parse(fresh.document));
    expect(document === fresh.document, `runtime/client/openapi.json ${STALE}`).toBe(true);
    expect(types === fresh.types, `runtime/client/api-schema.gen.ts ${STALE}`).toBe(true);
  });

  it("every operation documents its success answer with a schema, so the client types know it", async () => {
    const doc = JSON.parse(await readFile(DOCUMENT_FILE, "utf8")) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: object }> }> }>>;
    };
    const missing: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const success = Object.entries(operation.responses).filter(([status]) => status.startsWith("2"));
        // JSON for every operation but the live stream, whose messages are described under text/event-stream.
        const described = success.every(
          ([status, answer]) => status === "204" || Object.values(answer.content ?? {}).some((media) => media.schema),
        );
        if (success.length === 0 || !described) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing, "give these routes a response schema").toEqual([]);
  });
});
