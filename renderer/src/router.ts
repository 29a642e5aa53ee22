// Hash routes: bookmarkable (every detail has a permalink), work from file:// and http:// alike.
import { useEffect, useState } from "react";

export type AppTab = "scripts" | "kv" | "settings";

export type Route =
  | { page: "home" }
  | { page: "app"; app: string; tab: AppTab }
  | { page: "script"; app: string; script: string }
  | { page: "events" }
  | { page: "invocation"; id: string }
  | { page: "deadletters" }
  | { page: "tokens" }
  | { page: "nodes" }
  | { page: "connections" };

/** Top-level pages without parameters; other helpers add theirs here (e.g. "nodes"). */
const SIMPLE_PAGES = ["events", "deadletters", "tokens", "nodes", "connections"] as const;

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(safeDecode);
  const [first, second, section, script] = parts;
  if (first === "apps" && second) {
    if (section === "scripts" && script) return { page: "script", app: second, script };
    if (section === "kv" || section === "settings") return { page: "app", app: second, tab: section };
    return { page: "app", app: second, tab: "scripts" };
  }
  if (first === "invocations" && second) return { page: "invocation", id: second };
  const simple = SIMPLE_PAGES.find((p) => p === first);
  if (simple) return { page: simple };
  return { page: "home" };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function href(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case "script":
      return `#/apps/${e(route.app)}/scripts/${e(route.script)}`;
    case "app":
      return route.tab === "scripts" ? `#/apps/${e(route.app)}` : `#/apps/${e(route.app)}/${route.tab}`;
    case "invocation":
      return `#/invocations/${e(route.id)}`;
    case "home":
      return "#/";
    default:
      return `#/${route.page}`;
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route);
}

/** The app a route belongs to, if any. */
export function routeApp(route: Route): string | undefined {
  return route.page === "app" || route.page === "script" ? route.app : undefined;
}

/** Asked before the route changes; returns false to stay (e.g. unsaved edits). */
let leaveGuard: (() => boolean) | undefined;
let currentHash = typeof window === "undefined" ? "" : window.location.hash;

/** While `message` is set, leaving the page (route change or reload) asks the user first. */
export function useLeaveGuard(message: string | null): void {
  useEffect(() => {
    if (!message) return;
    const guard = () => window.confirm(message);
    const beforeUnload = (event: BeforeUnloadEvent) => event.preventDefault();
    leaveGuard = guard;
    window.addEventListener("beforeunload", beforeUnload);
    return () => {
      if (leaveGuard === guard) leaveGuard = undefined;
      window.removeEventListener("beforeunload", beforeUnload);
    };
  }, [message]);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    // The address may have changed before this listener existed (while the app was loading).
    currentHash = window.location.hash;
    setRoute(parseRoute(currentHash));
    const update = () => {
      if (window.location.hash === currentHash) return;
      if (leaveGuard && !leaveGuard()) {
        // Stay: put the old address back without another hashchange.
        history.replaceState(null, "", currentHash || "#/");
        return;
      }
      currentHash = window.location.hash;
      setRoute(parseRoute(currentHash));
    };
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
