// What the desktop window may show and who may talk to the main process. The window shows only
// the control panel document of the embedded runtime (`/`, with hash routes); the runtime's other
// pages — above all script endpoints, which are tenant content on the same origin — never load in
// it, and IPC answers only the control panel's top frame. Pure checks here; wiring in index.ts.

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
export { DASHBOARD_CSP as WINDOW_CSP } from "../runtime/manager/dashboard-csp.js";
