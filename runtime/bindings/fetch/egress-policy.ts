// Which destinations a script's fetch may reach. Decided on the address a connection will actually
// use (after DNS, on every redirect hop), never on the name alone: public unicast addresses are open
// by default; loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved, and IPv6
// forms that embed IPv4 (mapped, NAT64, 6to4, Teredo) are closed unless an app pattern opens them.
// A pattern opens exactly what it names: a host (any port), host:port, *.domain, an IP or a CIDR.
// Names and addresses never mix: a name pattern may not end in a number (to a URL parser that is an
// IPv4 address: `*.0.0.1` would open 127.0.0.1), and a name pattern never matches an IP literal.
// An app in `allowlist` mode has no public default: only its patterns open anything.
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { PiCloudError } from "../../shared/errors.js";
import type { EgressMode } from "../../store/egress.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export type EgressPattern =
  | { readonly kind: "host"; readonly host: string; readonly port?: number; readonly text: string }
  | { readonly kind: "wildcard"; readonly suffix: string; readonly port?: number; readonly text: string }
  | { readonly kind: "cidr"; readonly range: [Address, number]; readonly port?: number; readonly text: string };

const HOST = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function invalid(text: string, why: string): PiCloudError {
  return new PiCloudError("EGRESS_INVALID_PATTERN", `Invalid egress pattern '${text}': ${why}`);
}

function numeric(text: string): PiCloudError {
  return invalid(
    text,
    "a host name cannot end in a number (that is an IP address); open addresses with an IP or a CIDR such as 192.168.1.0/24.",
  );
}

function parsePort(text: string, port: string): number {
  const n = Number(port);
  if (!/^\d{1,5}$/.test(port) || n < 1 || n > 65_535) throw invalid(text, "the port must be 1-65535.");
  return n;
}

/**
 * The URL standard's "ends in a number": a host whose last label (after a trailing dot) is decimal
 * digits or 0x-hex is parsed as an IPv4 address (`0x7f.1`, `127.1`, `0177.0.0.1`), never looked up as a name.
 */
function endsInNumber(host: string): boolean {
  const labels = host.split(".");
  if (labels.length > 1 && labels[labels.length - 1] === "") labels.pop();
  return /^(?:\d+|0x[0-9a-f]*)$/i.test(labels[labels.length - 1] ?? "");
}

/** An IP address as a URL or a caller writes it (any IPv4 form, IPv6 with or without brackets): no name pattern applies. */
function isIpLiteral(host: string): boolean {
  return host.includes(":") || isIP(host) !== 0 || endsInNumber(host);
}

/** Parses `host`, `host:port`, `*.domain`, `*.domain:port`, an IPv4/IPv6 address (`[v6]:port`), or a CIDR. */
export function parseEgressPattern(input: string): EgressPattern {
  const text = String(input).trim().toLowerCase();
  if (text.length === 0 || text.length > 300) throw invalid(String(input), "use a host, host:port, *.domain or a CIDR.");
  if (text.includes("/")) {
    try {
      const range = ipaddr.parseCIDR(text);
      return { kind: "cidr", range, text };
    } catch {
      // Only a CIDR has a '/': anything else with one (a path, '../x') is no pattern at all.
      throw invalid(text, "only a CIDR such as 192.168.1.0/24 has a '/'; a host pattern is host, host:port or *.domain.");
    }
  }
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] as string;
    if (bracketed[2] !== undefined) port = parsePort(text, bracketed[2]);
  } else if (text.split(":").length === 2) {
    const [h, p] = text.split(":") as [string, string];
    host = h;
    port = parsePort(text, p);
  }
  const withPort = port === undefined ? {} : { port };
  if (ipaddr.isValid(host) && (host.includes(":") || ipaddr.IPv4.isValidFourPartDecimal(host))) {
    const address = ipaddr.parse(host);
    return { kind: "cidr", range: [address, address.kind() === "ipv4" ? 32 : 128], ...withPort, text };
  }
  if (host.startsWith("*.")) {
    const suffix = host.slice(2);
    if (!HOST.test(suffix) || !suffix.includes(".")) throw invalid(text, "a wildcard names a domain: *.example.com.");
    if (endsInNumber(suffix)) throw numeric(text);
    return { kind: "wildcard", suffix, ...withPort, text };
  }
  if (!HOST.test(host)) throw invalid(text, "use a host name, an IP address or a CIDR.");
  if (endsInNumber(host)) throw numeric(text);
  return { kind: "host", host, ...withPort, text };
}

/** The address as IPv4 when it is an IPv4-mapped IPv6 address (::ffff:a.b.c.d), so one rule set covers both. */
function normalise(address: string): Address | undefined {
  if (!ipaddr.isValid(address)) return undefined;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) return (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed;
}

/**
 * IPv4-compatible IPv6 (::a.b.c.d, ::/96; deprecated by RFC 4291) embeds an IPv4 address like the mapped,
 * NAT64 and 6to4 forms, but ipaddr.js classes it "unicast".
 */
function isIPv4Compatible(parsed: Address): boolean {
  return parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0);
}

/** Public unicast: the only range open without a pattern. Everything ipaddr.js classes otherwise is closed. */
export function isPublicAddress(address: string): boolean {
  const parsed = normalise(address);
  return parsed !== undefined && parsed.range() === "unicast" && !isIPv4Compatible(parsed);
}

export class EgressPolicy {
  readonly patterns: readonly EgressPattern[];

  constructor(
    patterns: readonly string[],
    readonly mode: EgressMode = "public",
  ) {
    // Stored patterns were checked when added; one that a later release refuses (a name ending in a
    // number, which could open an IP address) opens nothing rather than failing every fetch of the app.
    this.patterns = patterns.flatMap((text) => {
      try {
        return [parseEgressPattern(text)];
      } catch {
        return [];
      }
    });
  }

  /**
   * Could any address of `host` on `port` pass? False means refuse before resolving the name (an
   * allowlist app whose patterns do not name it: no DNS query leaves for a destination it may not reach).
   */
  mayReach(host: string, port: number): boolean {
    if (this.mode === "public") return true;
    const name = host.toLowerCase().replace(/\.$/, "");
    return this.patterns.some((p) => (p.port === undefined || p.port === port) && (p.kind === "cidr" || namedBy(p, name)));
  }

  /**
   * May a connection to `address` (what DNS gave for `host`, or `host` itself when it is an IP) on
   * `port` be opened? `host` is the URL's host name, lower case, without brackets.
   */
  allows(host: string, port: number, address: string): boolean {
    if (this.mode === "public" && isPublicAddress(address)) return true;
    const parsed = normalise(address);
    const name = host.toLowerCase().replace(/\.$/, "");
    return this.patterns.some((p) => {
      if (p.port !== undefined && p.port !== port) return false;
      if (p.kind !== "cidr") return namedBy(p, name);
      if (!parsed) return false;
      const [base] = p.range;
      const candidate = parsed.kind() === base.kind() ? parsed : undefined;
      return candidate !== undefined && (candidate as ipaddr.IPv4).match(p.range as [ipaddr.IPv4, number]);
    });
  }
}

/** Does a host or *.domain pattern name `name` (lower case, no trailing dot)? Never when `name` is an IP literal. */
export function namedBy(p: EgressPattern, name: string): boolean {
  if (isIpLiteral(name)) return false;
  if (p.kind === "host") return p.host === name;
  if (p.kind === "wildcard") return name.endsWith(`.${p.suffix}`);
  return false;
}

export const DEFAULT_EGRESS = new EgressPolicy([]);
