// Which URL a process puts in the nodes table, so a manager sends callers somewhere that answers.
import type os from "node:os";
import { describe, expect, it } from "vitest";
import { advertisedUrl, externalAddress, localUrl } from "./advertised-url.js";

type Interfaces = ReturnType<typeof os.networkInterfaces>;
const nic = (address: string, family: "IPv4" | "IPv6", internal = false) =>
  ({ address, family, internal, netmask: "", mac: "", cidr: null, ...(family === "IPv6" && { scopeid: 0 }) }) as never;
const lan: Interfaces = {
  lo: [nic("127.0.0.1", "IPv4", true), nic("::1", "IPv6", true)],
  eth0: [nic("fe80::1", "IPv6"), nic("2001:db8::5", "IPv6"), nic("192.168.1.20", "IPv4")],
};

describe("advertised URL", () => {
  it("a process bound to every interface advertises an external IPv4 address, not loopback", () => {
    expect(advertisedUrl("0.0.0.0", 8787, undefined, lan)).toBe("http://192.168.1.20:8787");
    expect(advertisedUrl("::", 8787, undefined, lan)).toBe("http://192.168.1.20:8787");
  });

  it("IPv6 comes in brackets, link-local addresses (which need a zone) are skipped, and a machine with no network advertises loopback", () => {
    const v6only: Interfaces = { eth0: [nic("fe80::1", "IPv6"), nic("2001:db8::5", "IPv6")] };
    expect(externalAddress(v6only)).toBe("2001:db8::5");
    expect(advertisedUrl("0.0.0.0", 80, undefined, v6only)).toBe("http://[2001:db8::5]:80");
    expect(advertisedUrl("0.0.0.0", 80, undefined, { lo: [nic("127.0.0.1", "IPv4", true)] })).toBe("http://127.0.0.1:80");
  });

  it("a specific bound address is advertised as it is; --public-url wins over everything", () => {
    expect(advertisedUrl("10.0.0.7", 9000, undefined, lan)).toBe("http://10.0.0.7:9000");
    expect(advertisedUrl("::1", 9000, undefined, lan)).toBe("http://[::1]:9000");
    expect(advertisedUrl("0.0.0.0", 9000, "https://scripts.example.test/", lan)).toBe("https://scripts.example.test");
  });

  it("the local URL (what serve prints) reaches the process from this machine", () => {
    expect(localUrl("0.0.0.0", 8787)).toBe("http://127.0.0.1:8787");
    expect(localUrl("::", 8787)).toBe("http://127.0.0.1:8787");
    expect(localUrl("::1", 8787)).toBe("http://[::1]:8787");
    expect(localUrl("127.0.0.1", 8787)).toBe("http://127.0.0.1:8787");
  });
});
