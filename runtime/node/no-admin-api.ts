// A node-only process (`picloud node`) serves script endpoints and nothing of the admin API. Without
// these routes `/api/v1/...` would reach the ingress as app "api" (a reserved id, so never a script)
// and answer SCRIPT_NOT_FOUND, which sends a user looking for a missing script instead of the manager.
import type { FastifyInstance } from "fastify";
import { PiCloudError } from "../shared/errors.js";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

export async function registerNoAdminApi(app: FastifyInstance): Promise<void> {
  const refuse = async () => {
    throw new PiCloudError("ADMIN_API_ON_MANAGER");
  };
  // The dashboard's root too: someone who opens a node in a browser learns where to go.
  for (const url of ["/", "/api", "/api/*"]) app.route({ method: [...METHODS], url, handler: refuse });
}
