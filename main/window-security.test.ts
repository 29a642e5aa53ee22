// The desktop window's CSP: the runtime-served dashboard's, with connect-src naming exactly the saved
// remote runtimes' origins; the web-served dashboard reaches its own origin only.
import { describe, expect, it } from "vitest";
import { DASHBOARD_CSP } from "../runtime/manager/dashboard-csp.js";
import { windowCsp } from "./window-security.js";

const connectSrc = (csp: string) => csp.split("; ").find((d) => d.startsWith("connect-src "));

describe("content security policies", () => {
  it("the dashboard served by a runtime may connect to its own origin only (no scheme-wide http: or https:)", () => {
    expect(connectSrc(DASHBOARD_CSP)).toBe("connect-src 'self'");
    expect(DASHBOARD_CSP).not.toMatch(/(^|\s)https?:(\s|;|$)/);
  });

  it("the desktop window opens connect-src to the saved remotes' origins and nothing else", () => {
    expect(windowCsp([])).toBe(DASHBOARD_CSP);
    const csp = windowCsp([
      "http://192.168.1.20:8787",
      "https://pi.example.net/picloud",
      "http://192.168.1.20:8787/",
      "HTTPS://PI.example.net:443",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "not a url; script-src *",
    ]);
    expect(connectSrc(csp)).toBe("connect-src 'self' http://192.168.1.20:8787 https://pi.example.net");
    // Everything else is the dashboard's policy unchanged.
    expect(csp.split("; ").filter((d) => !d.startsWith("connect-src "))).toEqual(
      DASHBOARD_CSP.split("; ").filter((d) => !d.startsWith("connect-src ")),
    );
  });
});
