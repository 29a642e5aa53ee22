// The admin API's OpenAPI document, built from the route schemas without a database or a listening
// socket: the source `npm run gen:api` writes to runtime/client/ (and its test compares against).
import { loadConfig } from "../shared/config.js";
import { silentLogger } from "../shared/log.js";
import { PICLOUD_VERSION } from "../shared/version.js";
import { registerAdminApi } from "./admin-api.js";
import { buildHttpApp } from "./http-app.js";
import type { ApiServices } from "./services.js";

/** Services that only exist to let the routes register: documenting the API never calls them. */
function unusedServices(): ApiServices {
  const config = loadConfig({}, {});
  return new Proxy({ config } as ApiServices, {
    get(target, key) {
      if (key in target) return target[key as keyof ApiServices];
      throw new Error(`The OpenAPI document was built with services.${String(key)} in use at registration.`);
    },
  });
}

export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const services = unusedServices();
  const app = await buildHttpApp({ config: services.config, logger: silentLogger(), version: PICLOUD_VERSION }, [
    { registerHttp: (http) => registerAdminApi(http, services) },
  ]);
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
