// The SSRF rules at the policy layer, on resolved addresses: no connection is ever made here.
import { describe, expect, it } from "vitest";
import { EgressPolicy, isPublicAddress, namedBy, parseEgressPattern } from "./egress-policy.js";

describe("egress policy", () => {
  it("the default policy refuses loopback, private, link-local, metadata, CGNAT, IPv4-mapped and embedded-IPv4 IPv6", () => {
    const policy = new EgressPolicy([]);
    const refused = [
      "127.0.0.1",
      "127.1.2.3",
      "0.0.0.0",
      "10.0.0.5",
      "172.16.4.4",
      "192.168.1.10",
      "169.254.169.254",
      "169.254.1.1",
      "100.64.0.1",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fd00:ec2::254",
      "fc00::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:169.254.169.254",
      "::ffff:10.0.0.1",
      "64:ff9b::7f00:1",
      "2002:7f00:1::",
      "ff02::1",
      // IPv4-compatible (::/96) as a URL spells it (new URL("http://[::127.0.0.1]/") has host [::7f00:1]),
      // which ipaddr.js calls unicast; even a public IPv4 inside is closed.
      "::7f00:1",
      "::a9fe:a9fe",
      "::a00:1",
      "::808:808",
    ];
    for (const address of refused) expect(policy.allows("example.com", 80, address), address).toBe(false);
    for (const address of ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"]) {
      expect(policy.allows("example.com", 443, address), address).toBe(true);
    }
  });

  it("a name that resolves to 127.0.0.1 is refused: the address decides, not the name", () => {
    expect(new EgressPolicy([]).allows("totally-public.example", 443, "127.0.0.1")).toBe(false);
    expect(new EgressPolicy(["*.example.org"]).allows("totally-public.example", 443, "127.0.0.1")).toBe(false);
  });

  it("a pattern opens exactly what it names", () => {
    const policy = new EgressPolicy(["127.0.0.1:8080", "homeassistant.lan", "*.home.arpa:8123", "192.168.1.0/24", "[::1]:9000"]);
    expect(policy.allows("127.0.0.1", 8080, "127.0.0.1")).toBe(true);
    expect(policy.allows("127.0.0.1", 8081, "127.0.0.1")).toBe(false);
    expect(policy.allows("localhost", 8081, "127.0.0.1")).toBe(false);
    expect(policy.allows("homeassistant.lan", 8123, "192.168.7.7")).toBe(true);
    expect(policy.allows("other.lan", 8123, "192.168.7.7")).toBe(false);
    expect(policy.allows("hub.home.arpa", 8123, "10.1.1.1")).toBe(true);
    expect(policy.allows("hub.home.arpa", 80, "10.1.1.1")).toBe(false);
    expect(policy.allows("home.arpa", 8123, "10.1.1.1")).toBe(false);
    expect(policy.allows("nas", 445, "192.168.1.77")).toBe(true);
    expect(policy.allows("nas", 445, "192.168.2.77")).toBe(false);
    expect(policy.allows("nas", 445, "::ffff:192.168.1.77")).toBe(true);
    expect(policy.allows("::1", 9000, "::1")).toBe(true);
    expect(policy.allows("::1", 9001, "::1")).toBe(false);
    expect(policy.allows("x", 80, "169.254.169.254")).toBe(false);
  });

  it("allowlist mode refuses the public internet too: only the patterns open anything", () => {
    const none = new EgressPolicy([], "allowlist");
    for (const address of ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "127.0.0.1", "10.0.0.5"]) {
      expect(none.allows("example.com", 443, address), address).toBe(false);
    }
    const some = new EgressPolicy(["api.example.com", "*.github.com:443", "1.1.1.0/24", "127.0.0.1:8080"], "allowlist");
    expect(some.allows("api.example.com", 443, "93.184.216.34")).toBe(true);
    expect(some.allows("www.example.com", 443, "93.184.216.34")).toBe(false);
    expect(some.allows("raw.github.com", 443, "185.199.108.133")).toBe(true);
    expect(some.allows("raw.github.com", 80, "185.199.108.133")).toBe(false);
    expect(some.allows("one.one.one.one", 443, "1.1.1.1")).toBe(true);
    expect(some.allows("dns.google", 443, "8.8.8.8")).toBe(false);
    expect(some.allows("127.0.0.1", 8080, "127.0.0.1")).toBe(true);
    expect(some.allows("127.0.0.1", 8081, "127.0.0.1")).toBe(false);
    // Public mode with the same patterns still opens every public address.
    expect(new EgressPolicy(["api.example.com"]).allows("dns.google", 443, "8.8.8.8")).toBe(true);
  });

  it("in allowlist mode a name no pattern could open is refused before it is resolved", () => {
    const names = new EgressPolicy(["api.example.com", "*.home.arpa:8123"], "allowlist");
    expect(names.mayReach("api.example.com", 443)).toBe(true);
    expect(names.mayReach("API.Example.com.", 443)).toBe(true);
    expect(names.mayReach("ha.home.arpa", 8123)).toBe(true);
    expect(names.mayReach("ha.home.arpa", 80)).toBe(false);
    expect(names.mayReach("evil.example", 443)).toBe(false);
    // A CIDR may match whatever a name resolves to: that name must be resolved and its addresses checked.
    expect(new EgressPolicy(["10.0.0.0/8"], "allowlist").mayReach("anything.example", 80)).toBe(true);
    expect(new EgressPolicy(["10.0.0.1:5432"], "allowlist").mayReach("anything.example", 80)).toBe(false);
    expect(new EgressPolicy([], "allowlist").mayReach("example.com", 443)).toBe(false);
    expect(new EgressPolicy([]).mayReach("example.com", 443)).toBe(true);
  });

  it("patterns are validated with a coded error", () => {
    for (const bad of ["", "http://x", "a b", "*.com", "host:0", "host:99999", "10.0.0.0/99", "1.2.3"]) {
      expect(() => parseEgressPattern(bad), bad).toThrow(expect.objectContaining({ code: "EGRESS_INVALID_PATTERN" }));
    }
    // A '/' makes it a CIDR or nothing: the message says so rather than blaming a range.
    expect(() => parseEgressPattern("../../etc")).toThrow(expect.objectContaining({ message: expect.stringContaining("only a CIDR") }));
    expect(parseEgressPattern("API.Example.com:8443")).toMatchObject({ kind: "host", host: "api.example.com", port: 8443 });
    expect(isPublicAddress("not an ip")).toBe(false);
  });

  it("a name pattern may not end in a number: to a URL that is an IPv4 address (*.0.0.1 would open 127.0.0.1)", () => {
    const numeric = [
      "*.0.0.1",
      "*.0.0.127",
      "*.1.168.192",
      "*.168.1.1",
      "*.0.1:8080",
      "*.example.1",
      "*.a.0x7f",
      "*.A.0X7F",
      "*.example.0x",
      "*.example.00",
      "0x7f000001",
      "0x7f.1",
      "0x7f.0.0.1",
      "0177.0.0.1",
      "127.1",
      "2130706433",
      "nas.lan.1",
      "nas.0xA:80",
    ];
    for (const bad of numeric) {
      expect(() => parseEgressPattern(bad), bad).toThrow(
        expect.objectContaining({ code: "EGRESS_INVALID_PATTERN", message: expect.stringContaining("IP") }),
      );
    }
    // Names whose last label only starts with digits, or holds hex letters without 0x, stay names.
    for (const good of ["*.1password.com", "*.example.com", "host-1.lan", "*.x1.lan:8123", "nas.0xz", "*.home.7f", "*.a.1e"]) {
      expect(parseEgressPattern(good).kind, good).not.toBe("cidr");
    }
  });

  it("a stored name pattern ending in a number (added before it was refused) opens nothing", () => {
    for (const stored of [["*.0.0.1"], ["*.0.0.1", "*.168.1.1"], ["*.0.0.1:8080"]]) {
      for (const mode of ["public", "allowlist"] as const) {
        const policy = new EgressPolicy(stored, mode);
        expect(policy.patterns, stored.join()).toEqual([]);
        expect(policy.allows("127.0.0.1", 8080, "127.0.0.1")).toBe(false);
        expect(policy.allows("192.168.1.1", 80, "192.168.1.1")).toBe(false);
        expect(policy.mayReach("127.0.0.1", 8080)).toBe(mode === "public");
      }
    }
    // The valid patterns beside it still apply.
    expect(new EgressPolicy(["*.0.0.1", "10.0.0.0/8"]).allows("10.0.0.1", 80, "10.0.0.1")).toBe(true);
  });

  it("a name pattern never matches an IP literal in any form: IPv4 decimal, hex, octal, short, IPv6, mapped, trailing dot", () => {
    // Patterns validation refuses, matched directly: the second line of defence on its own.
    const wildcard = { kind: "wildcard", suffix: "0.0.1", text: "*.0.0.1" } as const;
    const mapped = { kind: "wildcard", suffix: "ffff:127.0.0.1", text: "*.ffff:127.0.0.1" } as const;
    const host = { kind: "host", host: "0x7f000001", text: "0x7f000001" } as const;
    const literals = [
      "127.0.0.1",
      "1.0.0.1",
      "127.0.0.1.",
      "0x7f.0.0.1",
      "0177.0.0.1",
      "127.1",
      "0x7f000001",
      "2130706433",
      "::1",
      "::ffff:127.0.0.1",
      "0:0:0:0:0:ffff:127.0.0.1",
      "[::ffff:127.0.0.1]",
    ];
    for (const name of literals) {
      expect(namedBy(wildcard, name), name).toBe(false);
      expect(namedBy(mapped, name), name).toBe(false);
      expect(namedBy(host, name), name).toBe(false);
    }
    expect(namedBy({ kind: "wildcard", suffix: "example.com", text: "*.example.com" }, "a.example.com")).toBe(true);
    // A valid name pattern next to an IP literal host: only an IP or CIDR pattern may open that address.
    const policy = new EgressPolicy(["*.home.arpa", "nas.lan"]);
    for (const name of ["127.0.0.1", "192.168.1.10", "::1", "::ffff:192.168.1.10"]) {
      const address = name.replace(/^::ffff:/, "");
      expect(policy.allows(name, 80, address), name).toBe(false);
    }
  });
});
