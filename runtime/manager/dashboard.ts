// Serves the built control panel (out/renderer) at /, so the same UI works in a browser against
// `picloud serve`. The UI talks to the runtime only through the admin API.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { DASHBOARD_CSP } from "./dashboard-csp.js";

/** Where `npm run build` puts the renderer, seen from this source file. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL("../../out/renderer/", import.meta.url));

export async function registerDashboard(app: FastifyInstance, uiDir: string): Promise<boolean> {
  const index = path.join(uiDir, "index.html");
  if (!existsSync(index)) {
    app.get("/", async (_request, reply) =>
      reply
        .type("text/plain; charset=utf-8")
        .send("PiCloud is running. The dashboard is not built: run `npm run build` (or `npm run serve`, which builds it) and reload."),
    );
    return false;
  }
  const securityHeaders = {
    "content-security-policy": DASHBOARD_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  await app.register(fastifyStatic, {
    root: path.join(uiDir, "assets"),
    prefix: "/assets/",
    decorateReply: false,
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
      res.setHeader("cache-control", "public, max-age=31536000, immutable");
    },
  });
  await app.register(fastifyStatic, { root: uiDir, serve: false });
  app.get("/", async (_request, reply) => reply.headers({ ...securityHeaders, "cache-control": "no-cache" }).sendFile("index.html"));
  return true;
}
