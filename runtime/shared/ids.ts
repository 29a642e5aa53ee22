import { randomBytes } from "node:crypto";
import { PiCloudError } from "./errors.js";

// A random per-process prefix plus a counter: unique across processes without paying for
// random bytes on every id (ids are made on the request hot path).
const PROCESS_PREFIX = randomBytes(6).toString("hex");
let counter = 0;
/** The last id's millisecond and its leading hex digits (several ids a millisecond under load). */
let idMs = -1;
let idPrefix = "";

/** Time-ordered, unique 32-hex-digit ids (ms timestamp, process prefix, counter): ordering by id is ordering by creation. */
export function newId(now: number = Date.now()): string {
  counter = (counter + 1) % 0x100000000;
  // Whole ms: a clock with an offset (the database's, in cluster mode) can give fractions.
  const ms = Math.floor(now);
  if (ms !== idMs) {
    idMs = ms;
    idPrefix = `${ms.toString(16).padStart(12, "0")}${PROCESS_PREFIX}`;
  }
  return `${idPrefix}${counter.toString(16).padStart(8, "0")}`;
}

/** The id patterns as text, for the API schemas (and so for the OpenAPI document and generated clients). */
export const APP_ID_PATTERN = "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$";
export const SCRIPT_NAME_PATTERN = "^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$";
/** Record ids made by newId(). */
export const RECORD_ID_PATTERN = "^[0-9a-f]{32}$";

const APP_ID = new RegExp(APP_ID_PATTERN);
const SCRIPT_NAME = new RegExp(SCRIPT_NAME_PATTERN);

/** Top-level path segments the runtime itself uses; an app cannot take them. */
export const RESERVED_APP_IDS = new Set(["api", "assets", "ui", "health", "favicon.ico", "static", "docs"]);

export function assertAppId(id: unknown): asserts id is string {
  if (typeof id !== "string" || !APP_ID.test(id)) throw new PiCloudError("APP_INVALID_ID");
  if (RESERVED_APP_IDS.has(id)) throw new PiCloudError("APP_RESERVED_ID", `The app id '${id}' is reserved.`);
}

export function assertScriptName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !SCRIPT_NAME.test(name)) throw new PiCloudError("SCRIPT_INVALID_NAME");
}
