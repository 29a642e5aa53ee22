// Ranking the command palette's items against what was typed: prefix, then word start, then
// substring, then the letters in order (fuzzy); shorter labels first within a rank.
import type { Route } from "../router";

export interface PaletteItem {
  readonly kind: "view" | "app" | "settings" | "script" | "collection";
  readonly label: string;
  readonly route: Route;
}

function score(label: string, query: string): number {
  const l = label.toLowerCase();
  if (l.startsWith(query)) return 0;
  if (new RegExp(`[\\s/._-]${query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`).test(l)) return 1;
  if (l.includes(query)) return 2;
  let at = 0;
  for (const ch of query) {
    at = l.indexOf(ch, at);
    if (at < 0) return -1;
    at++;
  }
  return 3;
}

export function rankItems(items: readonly PaletteItem[], text: string): PaletteItem[] {
  const query = text.trim().toLowerCase();
  if (!query) return [...items];
  return items
    .map((item) => ({ item, rank: score(item.label, query) }))
    .filter((x) => x.rank >= 0)
    .sort((a, b) => a.rank - b.rank || a.item.label.length - b.item.label.length)
    .map((x) => x.item);
}
