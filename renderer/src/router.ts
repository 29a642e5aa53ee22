// Hash routes: bookmarkable, work from file:// and http:// alike.
import { useEffect, useState } from "react";

export type Route =
  | { page: "home" }
  | { page: "script"; app: string; script: string | null }
  | { page: "kv"; app: string }
  | { page: "events" }
  | { page: "deadletters" }
  | { page: "connections" };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [first, app, section, script] = parts;
  if (first === "apps" && app) {
    if (section === "kv") return { page: "kv", app };
    return { page: "script", app, script: section === "scripts" && script ? script : null };
  }
  if (first === "events") return { page: "events" };
  if (first === "deadletters") return { page: "deadletters" };
  if (first === "connections") return { page: "connections" };
  return { page: "home" };
}

export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case "script":
      return route.script ? `#/apps/${e(route.app)}/scripts/${e(route.script)}` : `#/apps/${e(route.app)}`;
    case "kv":
      return `#/apps/${e(route.app)}/kv`;
    case "home":
      return "#/";
    default:
      return `#/${route.page}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
