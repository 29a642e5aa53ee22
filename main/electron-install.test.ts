// The first `npm start` downloads the Electron binary with Electron's own installer (`electron/install.js`:
// @electron/get, checksum, @electron-internal/extract-zip). Those packages declare Node 22.12, and npm
// warns EBADENGINE on Node 20; this proves the installer runs through on the Node our users have.
// Electron's servers are out of reach here, so a loopback mirror serves a stand-in archive whose
// checksum the copied installer is told; everything else is the real installer code.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const nodeModules = path.join(root, "node_modules");
const { version } = JSON.parse(readFileSync(path.join(nodeModules, "electron", "package.json"), "utf8")) as { version: string };

describe("the Electron installer on this Node", () => {
  const work = mkdtempSync(path.join(os.tmpdir(), "picloud-electron-install-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(`downloads, verifies and unpacks Electron ${version} (Node ${process.versions.node})`, async () => {
    const archiveName = `electron-v${version}-${process.platform}-${process.arch}.zip`;
    const stage = path.join(work, "stage");
    mkdirSync(stage);
    writeFileSync(path.join(stage, "electron"), "#!/bin/sh\necho stand-in\n", { mode: 0o755 });
    writeFileSync(path.join(stage, "version"), version);
    const archive = path.join(work, archiveName);
    execFileSync(
      "python3",
      [
        "-c",
        "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n  for n in sys.argv[2:]: z.write(n, n)",
        archive,
        "electron",
        "version",
      ],
      {
        cwd: stage,
      },
    );
    const bytes = readFileSync(archive);
    const sha256 = createHash("sha256").update(bytes).digest("hex");

    const requested: string[] = [];
    const mirror = http.createServer((request, response) => {
      requested.push(request.url ?? "");
      if (request.url === `/v${version}/${archiveName}`) response.end(bytes);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => mirror.listen(0, "127.0.0.1", resolve));
    try {
      // A copy of the installed package (the real one must stay untouched), told the stand-in's checksum.
      const electron = path.join(work, "electron");
      cpSync(path.join(nodeModules, "electron"), electron, {
        recursive: true,
        filter: (source) => !source.includes(`${path.sep}dist`) && !source.endsWith("path.txt"),
      });
      const checksums = path.join(electron, "checksums.json");
      writeFileSync(checksums, JSON.stringify({ ...JSON.parse(readFileSync(checksums, "utf8")), [archiveName]: sha256 }));

      const { port } = mirror.address() as AddressInfo;
      const exit = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ["install.js"], {
          cwd: electron,
          env: {
            ...process.env,
            NODE_PATH: nodeModules,
            ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
            electron_config_cache: path.join(work, "cache"),
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (chunk) => (output += chunk));
        child.stderr.on("data", (chunk) => (output += chunk));
        child.on("exit", (code) => resolve({ code, output }));
      });
      expect(exit.output).not.toMatch(/Error/);
      expect(exit.code).toBe(0);
      expect(requested).toContain(`/v${version}/${archiveName}`);
      expect(readFileSync(path.join(electron, "path.txt"), "utf8")).toBe("electron");
      expect(existsSync(path.join(electron, "dist", "electron"))).toBe(true);
    } finally {
      mirror.close();
    }
  });
});
