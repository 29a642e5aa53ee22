// The cron syntax schedules accept, in one sentence shared by the API's error, the control panel's
// form and docs/events.md (croner parses it).
export const CRON_FORMAT =
  "5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or 7 with a year last; or @yearly, @monthly, @weekly, @daily, @hourly";
