// The connections IPC under an Electron stand-in: a corrupt connections.json is reported, never
// read as empty and overwritten; writes are atomic; only the control panel's top frame is answered;
// a new remote is checked by the main process against a real runtime on loopback.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startTestRuntime, TEST_TOKEN } from "../runtime/testing/runtime.js";

const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
vi.mock("electron", () => ({
  ipcMain: { handle: (channel: string, fn: (event: unknown, ...args: unknown[]) => unknown) => handlers.set(channel, fn) },
  safeStorage: { isEncryptionAvailable: () => false, encryptString: () => Buffer.alloc(0), decryptString: () => "" },
}));

const { registerConnectionsIpc } = await import("./connections-ipc.js");
const { IPC } = await import("./ipc-contract.js");

const LOCAL = { url: "http://127.0.0.1:4567", token: "pc_local_token_0123456789" };
const fromUi = { senderFrame: { url: "http://127.0.0.1:4567/", parent: null } };
const call = (channel: string, ...args: unknown[]) => Promise.resolve().then(() => handlers.get(channel)?.(fromUi, ...args));

let dir: string;
let file: string;
let remoteUrls: () => string[];
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "picloud-connections-"));
  file = path.join(dir, "connections.json");
  handlers.clear();
  remoteUrls = registerConnectionsIpc({ file, local: LOCAL });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("connections IPC", () => {
  it("saves, lists and removes remotes with atomic writes (no temp files left, mode 0600)", async () => {
    const saved = (await call(IPC.save, { name: "pi", url: "http://10.0.0.2:8787", token: "pc_remote_token_0123456789" })) as {
      id: string;
    };
    expect(((await call(IPC.list)) as { id: string }[]).map((c) => c.id)).toEqual(["local", saved.id]);
    expect(await call(IPC.token, saved.id)).toBe("pc_remote_token_0123456789");
    expect(readdirSync(dir)).toEqual(["connections.json"]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await call(IPC.remove, saved.id);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual([]);
  });

  it("a corrupt connections.json is an error, and a save does not wipe it", async () => {
    const corrupt = '[{"id":"a","name":"pi","url":"http://10.0.0.2:8787","kind":"remote","secret":"pc_x","encrypted":false},';
    writeFileSync(file, corrupt);
    await expect(call(IPC.list)).rejects.toThrow(/not valid JSON/);
    await expect(call(IPC.save, { name: "new", url: "http://10.0.0.3:8787", token: "pc_remote_token_0123456789" })).rejects.toThrow(
      /not valid JSON/,
    );
    await expect(call(IPC.remove, "a")).rejects.toThrow(/not valid JSON/);
    expect(readFileSync(file, "utf8")).toBe(corrupt);
  });

  it("answers only the control panel's top frame", async () => {
    const token = handlers.get(IPC.token);
    expect(token?.(fromUi, "local")).toBe(LOCAL.token);
    for (const frame of [
      { url: "http://127.0.0.1:4567/evil/page", parent: null },
      { url: "http://127.0.0.1:4567/?x=1", parent: null },
      { url: "http://127.0.0.1:4567/", parent: {} },
      { url: "http://127.0.0.1:9999/", parent: null },
      null,
    ]) {
      expect(() => token?.({ senderFrame: frame }, "local"), JSON.stringify(frame)).toThrow(/not the PiCloud control panel/);
    }
  });

  it("gives the saved remotes' URLs for the window's CSP, read afresh after every save and removal", async () => {
    expect(remoteUrls()).toEqual([]);
    const saved = (await call(IPC.save, { name: "pi", url: "http://10.0.0.2:8787/", token: "pc_remote_token_0123456789" })) as {
      id: string;
    };
    expect(remoteUrls()).toEqual(["http://10.0.0.2:8787"]);
    await call(IPC.remove, saved.id);
    expect(remoteUrls()).toEqual([]);
  });

  it("checks a new remote from the main process: its coded answer as plain data, bad input refused", async () => {
    const t = await startTestRuntime();
    try {
      const url = await t.runtime.listen();
      expect(await call(IPC.check, { url, token: TEST_TOKEN })).toEqual({ ok: true });
      expect(await call(IPC.check, { url, token: "pc_wrong_token_for_this_node" })).toMatchObject({
        ok: false,
        status: 401,
        code: "AUTH_INVALID",
      });
      await t.close();
      expect(await call(IPC.check, { url, token: TEST_TOKEN })).toMatchObject({ ok: false, status: 0, code: "UNREACHABLE" });
    } finally {
      await t.close().catch(() => {});
    }
    for (const bad of [
      { url: "127.0.0.1:1", token: TEST_TOKEN },
      { url: "http://u:p@127.0.0.1:1", token: TEST_TOKEN },
      { url: "http://x" },
      "x",
    ]) {
      await expect(call(IPC.check, bad), JSON.stringify(bad)).rejects.toThrow();
    }
    expect(() => handlers.get(IPC.check)?.({ senderFrame: { url: "http://127.0.0.1:4567/evil", parent: null } }, {})).toThrow(
      /not the PiCloud control panel/,
    );
  });
});
