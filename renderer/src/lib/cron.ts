// The next runs of a cron expression as the user types it (the same parser as the scheduler).
import { Cron } from "croner";
import { CRON_FORMAT } from "../../../runtime/shared/cron-format.js";

export type CronPreview = { ok: true; runs: Date[] } | { ok: false; error: string };

export function previewCron(expression: string, timezone: string, count = 5, from = new Date()): CronPreview {
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
  } catch {
    return { ok: false, error: `Unknown time zone '${timezone}'.` };
  }
  try {
    return { ok: true, runs: new Cron(expression.trim(), { timezone, paused: true }).nextRuns(count, from) };
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern: /, "");
    return { ok: false, error: /space separated parts/.test(reason) ? `Use ${CRON_FORMAT}.` : reason };
  }
}
