// The --window syntax of the Prometheus collector, apart from the collector so the CLI's flag table
// can check it without loading the HTTP client.

/** "24h", "90m", "7d", "3600s" → seconds; undefined when not a duration of at least a minute. */
export function parseWindow(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(text.trim());
  if (!m) return undefined;
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
  const seconds = Number(m[1]) * (unit[m[2] ?? "s"] ?? 1);
  return seconds >= 60 ? Math.round(seconds) : undefined;
}
