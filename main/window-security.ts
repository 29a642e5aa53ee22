// What the desktop window may show and who may talk to the main process. The window shows only
// the control panel document of the embedded runtime (`/`, with hash routes); the runtime's other
// pages — above all script endpoints, which are tenant content on the same origin — never load in
// it, and IPC answers only the control panel's top frame. Pure checks here; wiring in index.ts.
import { CONNECT_SELF, DASHBOARD_CSP } from "../runtime/manager/dashboard-csp.js";

/** Whether `target` is the control panel document served by the runtime at `origin`. */
export function isUiDocument(target: string, origin: string): boolean {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false;
  }
  return url.origin === origin && (url.pathname === "/" || url.pathname === "/index.html") && url.search === "";
}

/** The part of an IPC event the check needs (Electron's IpcMainInvokeEvent.senderFrame). */
export interface SenderFrame {
  readonly url: string;
  readonly parent: unknown;
}

/** IPC is answered only for the top frame of the control panel document. */
export function isTrustedSender(frame: SenderFrame | null | undefined, origin: string): boolean {
  return !!frame && frame.parent === null && isUiDocument(frame.url, origin);
}

export class UntrustedSenderError extends Error {
  constructor(channel: string, url: string | undefined) {
    super(`IPC '${channel}' refused: the sender (${url ?? "no frame"}) is not the PiCloud control panel.`);
  }
}

/**
 * The UI's content security policy, for any response from the runtime that has none (a safety
 * net: the runtime sends its own on every page). Same as the dashboard's.
 */
export { DASHBOARD_CSP as WINDOW_CSP };

/**
 * The control panel document's CSP in the desktop window: the dashboard's, whose `connect-src` is
 * the runtime's own origin, opened to the origins of the remote runtimes the user saved and nothing
 * else (the renderer calls them directly: fetch and the live stream). A new remote is first checked
 * by the main process; the window reloads after a save so its origin joins the policy.
 */
export function windowCsp(remoteUrls: readonly string[]): string {
  const origins = new Set<string>();
  for (const url of remoteUrls) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol === "http:" || parsed.protocol === "https:") origins.add(parsed.origin);
    } catch {
      // not a URL: opens nothing
    }
  }
  return DASHBOARD_CSP.replace(CONNECT_SELF, [CONNECT_SELF, ...origins].join(" "));
}
