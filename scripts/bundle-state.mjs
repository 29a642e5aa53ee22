// Whether out/runtime (the bundle `npm run build` makes) is current: it exists and no file under
// runtime/ is newer. `bin/picloud` runs the bundle only then; tests rebuild it only when it is not.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const RUNTIME_BUNDLE = `${root}out/runtime/picloud.js`;

function newerThan(dir, time) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = `${dir}/${entry.name}`;
    if (entry.isDirectory() ? newerThan(full, time) : statSync(full).mtimeMs > time) return true;
  }
  return false;
}

export function runtimeBundleIsCurrent() {
  if (!existsSync(RUNTIME_BUNDLE)) return false;
  // A checkout without sources (an installed package) always runs the bundle.
  return !existsSync(`${root}runtime`) || !newerThan(`${root}runtime`, statSync(RUNTIME_BUNDLE).mtimeMs);
}
