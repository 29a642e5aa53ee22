// Locks the desktop window to the control panel: no navigation, redirect or frame navigation to
// anything but the UI document (script endpoints live on the same origin and are tenant content),
// no new windows, every permission request and check denied, the control panel document's CSP set
// here (its connect-src names the saved remote runtimes), and a CSP on any other response that lacks one.
import type { BrowserWindow } from "electron";
import { shell } from "electron";
import { isUiDocument, WINDOW_CSP, windowCsp } from "./window-security.js";

/** `remoteUrls` gives the saved remote runtimes' URLs when the control panel document loads. */
export function secureWindow(window: BrowserWindow, origin: string, remoteUrls: () => readonly string[]): void {
  const contents = window.webContents;
  const onlyUi = (event: { preventDefault(): void }, target: string) => {
    if (!isUiDocument(target, origin)) event.preventDefault();
  };
  contents.on("will-navigate", (event) => onlyUi(event, event.url));
  contents.on("will-redirect", (event) => onlyUi(event, event.url));
  // The UI has no frames of its own: a frame may not navigate anywhere but to the UI itself.
  contents.on("will-frame-navigate", (event) => {
    if (!event.isMainFrame || !isUiDocument(event.url, origin)) event.preventDefault();
  });
  contents.on("will-attach-webview", (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url: target }) => {
    if (/^https?:\/\//.test(target) && new URL(target).origin !== origin) void shell.openExternal(target);
    return { action: "deny" };
  });

  const session = contents.session;
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers = details.responseHeaders ?? {};
    const isCsp = (name: string) => name.toLowerCase() === "content-security-policy";
    if (details.resourceType === "mainFrame" && isUiDocument(details.url, origin)) {
      let remotes: readonly string[] = [];
      try {
        remotes = remoteUrls();
      } catch {
        // connections.json unreadable (the UI reports it): no remote is reachable
      }
      const rest = Object.fromEntries(Object.entries(headers).filter(([name]) => !isCsp(name)));
      return callback({ responseHeaders: { ...rest, "content-security-policy": [windowCsp(remotes)] } });
    }
    const hasCsp = Object.keys(headers).some(isCsp);
    callback({ responseHeaders: hasCsp ? headers : { ...headers, "content-security-policy": [WINDOW_CSP] } });
  });
}
