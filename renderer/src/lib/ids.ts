// Record ids as the runtime makes them (runtime/shared/ids.ts RECORD_ID_PATTERN: 32 lowercase hex
// digits), so a link that cannot name a record is answered here instead of by the API's validator.

export function isRecordId(id: string): boolean {
  return /^[0-9a-f]{32}$/.test(id);
}
