// The URL a process registers in the nodes table: where the manager (and `picloud deploy`, through
// it) tells callers to reach this process's script endpoints. A process bound to a wildcard address
// (0.0.0.0, ::) is reachable on every interface, and its loopback address is useless to any other
// machine, so the first non-internal address is advertised unless `--public-url` says otherwise
// (a node behind NAT, a proxy or a DNS name).
import os from "node:os";

type Interfaces = ReturnType<typeof os.networkInterfaces>;

const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);

const bracketed = (address: string) => (address.includes(":") ? `[${address}]` : address);

/** The first external address, IPv4 before IPv6 (link-local IPv6 needs a zone, so it is skipped). */
export function externalAddress(interfaces: Interfaces = os.networkInterfaces()): string | undefined {
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const usable = all.filter((i) => !i.internal && !(i.family === "IPv6" && i.address.toLowerCase().startsWith("fe80:")));
  return (usable.find((i) => i.family === "IPv4") ?? usable[0])?.address;
}

/**
 * `publicUrl` when given (without a trailing slash); else the bound host and port, with a wildcard
 * host replaced by an external address (loopback when the machine has none).
 */
export function advertisedUrl(host: string, port: number, publicUrl?: string, interfaces?: Interfaces): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  const address = WILDCARD.has(host) ? (externalAddress(interfaces) ?? "127.0.0.1") : host;
  return `http://${bracketed(address)}:${port}`;
}

/** The URL to reach this process from this machine (what `serve` prints). */
export function localUrl(host: string, port: number): string {
  return `http://${WILDCARD.has(host) ? "127.0.0.1" : bracketed(host)}:${port}`;
}
