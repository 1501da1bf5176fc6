// HTML writer: one self-contained page (inline CSS and SVG, no scripts, a CSP that forbids any
// network fetch) that reads at a glance — the verdict on top, a status-coloured node table, then per-node
// small multiples of calico-node memory, CPU and log-signature rate on shared axes, so the node that
// leaks or burns CPU stands out from its peers. Evidence, remediation and coverage follow.

import type { Report, Status } from "../model/finding.js";
import type { TrendChart } from "../model/resources.js";
import {
  STATUS_ORDER,
  advisorySummaries,
  gaps,
  keyEvidence,
  nodeList,
  nodeRows,
  noMatchLine,
  remediations,
  shortTime,
  targetLine,
  unitOf,
  unitTitle,
  verdictPhrase,
} from "./view.js";
import type { NodeRow } from "./view.js";

const COLOR: Record<Status, string> = {
  affected: "#c62828",
  "at-risk": "#b26a00",
  unknown: "#6a1b9a",
  "not-affected": "#2e7d32",
};

/** Cards drawn at most; the JSON report carries every node. */
const MAX_CARDS = 200;
const W = 300;
const H = 64;
const PAD_L = 40;
const PAD_B = 14;

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
}

function pill(status: Status): string {
  return `<span class="pill" style="background:${COLOR[status]}">${esc(status)}</span>`;
}

function num(n: number, digits: number): string {
  return (Math.round(n * 10 ** digits) / 10 ** digits).toFixed(digits);
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d2329;background:#f6f7f9}
main{max-width:1280px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #d9dde3;padding-bottom:4px}
.meta{color:#5a6470;margin:0 0 16px}
.verdict{border-left:8px solid;padding:12px 16px;background:#fff;border-radius:4px;margin:0 0 10px;box-shadow:0 1px 2px #0002}
.verdict .word{font-weight:700;font-size:20px}.verdict .title{color:#5a6470}
.tiles{display:flex;gap:10px;margin:10px 0 0;flex-wrap:wrap}
.tile{background:#fff;border-radius:4px;padding:8px 14px;min-width:110px;box-shadow:0 1px 2px #0002;border-top:4px solid}
.tile b{font-size:22px;display:block}
.pill{color:#fff;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;white-space:nowrap}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef1;vertical-align:top;font-size:13px}
th{background:#eef0f3;font-weight:600}
td.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.hot{color:#c62828;font-weight:600}
.callout{color:#8a4b00;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.card{background:#fff;border-radius:4px;padding:8px 10px;box-shadow:0 1px 2px #0002;border-top:5px solid}
.card h3{font-size:14px;margin:0 0 4px;display:flex;justify-content:space-between;gap:6px}
.card .lbl{font-size:11px;color:#5a6470;margin:4px 0 0;display:flex;justify-content:space-between}
svg{display:block}
.legend{color:#5a6470;font-size:12px;margin:0 0 8px}
ul.ev li{margin:0 0 6px}.src{color:#5a6470;font-size:12px}
code{background:#eef0f3;padding:0 3px;border-radius:3px;font-size:12px}
`;

function summarySection(report: Report): string {
  const summaries = advisorySummaries(report);
  if (summaries.length === 0)
    return `<div class="verdict" style="border-color:${COLOR["not-affected"]}">${esc(noMatchLine(report))}</div>`;
  const unit = unitOf(report);
  const banners = summaries.map((s) => {
    const { word, rest } = verdictPhrase(s, unit);
    return `<div class="verdict" style="border-color:${COLOR[s.worst]}"><span class="word" style="color:${COLOR[s.worst]}">${esc(word)}</span>${esc(rest)}<div class="title">${esc(s.advisoryId)} · ${esc(s.title)} · severity ${esc(s.severity)}</div></div>`;
  });
  const tiles = STATUS_ORDER.map(
    (st) =>
      `<div class="tile" style="border-color:${COLOR[st]}"><b style="color:${COLOR[st]}">${String(report.summary[st])}</b>${esc(st)}</div>`,
  );
  return `${banners.join("")}<div class="tiles">${tiles.join("")}</div>`;
}

function trendCells(chart: TrendChart | undefined): { mem: string; cpu: string } {
  const m = chart?.memorySlope;
  const c = chart?.cpu;
  const mem = m
    ? `<span class="${m.leak ? "hot" : ""}">${num(m.mibPerHour, 1)} MiB/h</span><br><span class="src">${String(Math.round(m.confidence * 100))}%: ${num(m.low, 1)} to ${num(m.high, 1)}</span>`
    : "—";
  const ratio = c?.peerRatio ?? c?.baselineRatio;
  const cpu = c
    ? `<span class="${c.outlier ? "hot" : ""}">${num(c.cores, 3)} cores</span>${ratio !== undefined ? `<br><span class="src">${num(ratio, 1)}× ${c.peerRatio !== undefined ? "peers" : "baseline"}</span>` : ""}`
    : "—";
  return { mem, cpu };
}

function nodeTable(report: Report, charts: Map<string, TrendChart>): string {
  const groups = nodeRows(report).filter((g) => g.rows.length > 0);
  const callouts = new Map<string, string[]>();
  for (const g of report.verdicts)
    for (const v of g.verdicts)
      callouts.set(`${g.advisoryId}\u0000${v.subject}`, v.facts?.resourceCallouts ?? []);
  const first = unitTitle(unitOf(report));
  return groups
    .map((g) => {
      const rows = g.rows.map((r: NodeRow) => {
        const t = trendCells(charts.get(`${g.advisoryId}\u0000${r.subject}`));
        const extra = (callouts.get(`${g.advisoryId}\u0000${r.subject}`) ?? [])
          .map((c) => `<div class="callout">${esc(c)}</div>`)
          .join("");
        return `<tr><td>${esc(r.subject)}${extra}</td><td>${pill(r.status)}</td><td><code>${esc(r.calico)}</code></td>${r.settings.map((v) => `<td>${esc(v)}</td>`).join("")}<td><code>${esc(r.kernel)}</code></td><td class="num">${esc(r.symptoms)}</td><td class="num">${esc(r.lastSeen)}</td><td class="num">${t.mem}</td><td class="num">${t.cpu}</td></tr>`;
      });
      const head = [
        first,
        "Status",
        esc(g.version),
        ...g.columns.map((c) => esc(`${c.title} (source)`)),
        "Kernel",
        "Log symptoms",
        "Last seen",
        "Memory slope",
        "CPU",
      ];
      const title = groups.length > 1 ? `<h2>${first}s — ${esc(g.advisoryId)}</h2>` : `<h2>${first}s</h2>`;
      return `${title}<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
    })
    .join("");
}

interface Domain {
  x0: number;
  x1: number;
  yMax: number;
}

function domainOf(points: [number, number][][], floor: number): Domain | undefined {
  let x0 = Infinity;
  let x1 = -Infinity;
  let yMax = floor;
  for (const list of points)
    for (const [x, y] of list) {
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      yMax = Math.max(yMax, y);
    }
  if (!Number.isFinite(x0)) return undefined;
  return { x0, x1: x1 > x0 ? x1 : x0 + 1, yMax: yMax * 1.08 };
}

function sx(d: Domain, x: number): number {
  return PAD_L + ((x - d.x0) / (d.x1 - d.x0)) * (W - PAD_L - 4);
}

function sy(d: Domain, y: number): number {
  return 4 + (1 - y / d.yMax) * (H - PAD_B - 4);
}

function axes(d: Domain, digits: number): string {
  const base = H - PAD_B;
  return (
    `<line x1="${String(PAD_L)}" y1="${String(base)}" x2="${String(W - 4)}" y2="${String(base)}" stroke="#c3c9d1"/>` +
    `<text x="${String(PAD_L - 4)}" y="10" text-anchor="end" font-size="10" fill="#5a6470">${num(d.yMax, digits)}</text>` +
    `<text x="${String(PAD_L - 4)}" y="${String(base)}" text-anchor="end" font-size="10" fill="#5a6470">0</text>`
  );
}

function lineChart(
  points: [number, number][],
  d: Domain | undefined,
  o: { label: string; hot: boolean; digits: number; resets: number[] },
): string {
  if (!d || points.length === 0)
    return `<svg width="${String(W)}" height="${String(H)}" role="img" aria-label="${esc(o.label)}: no data"><text x="${String(PAD_L)}" y="30" font-size="11" fill="#8a939e">${esc(o.label)}: no data</text></svg>`;
  const stroke = o.hot ? "#c62828" : "#1f6fb2";
  const path = points
    .map(([x, y], i) => `${i === 0 ? "M" : "L"}${num(sx(d, x), 1)},${num(sy(d, y), 1)}`)
    .join("");
  const marks = o.resets
    .map(
      (t) =>
        `<line x1="${num(sx(d, t), 1)}" y1="4" x2="${num(sx(d, t), 1)}" y2="${String(H - PAD_B)}" stroke="#8a939e" stroke-dasharray="2,2"/>`,
    )
    .join("");
  return `<svg width="${String(W)}" height="${String(H)}" viewBox="0 0 ${String(W)} ${String(H)}" role="img" aria-label="${esc(o.label)}">${axes(d, o.digits)}${marks}<path d="${path}" fill="none" stroke="${stroke}" stroke-width="1.6"/></svg>`;
}

function rateChart(chart: TrendChart, d: Domain | undefined): string {
  const label = "log signature /h";
  if (!d || chart.signatureRate.length === 0)
    return `<svg width="${String(W)}" height="${String(H)}" role="img" aria-label="${label}: none"><line x1="${String(PAD_L)}" y1="${String(H - PAD_B)}" x2="${String(W - 4)}" y2="${String(H - PAD_B)}" stroke="#c3c9d1"/><text x="${String(PAD_L)}" y="30" font-size="11" fill="#8a939e">no log signature</text></svg>`;
  const bars = chart.signatureRate
    .map((s) => {
      const x0 = sx(d, Date.parse(s.from) / 1000);
      const x1 = Math.max(x0 + 2, sx(d, Date.parse(s.to) / 1000));
      const y = sy(d, s.perHour);
      return `<rect x="${num(x0, 1)}" y="${num(y, 1)}" width="${num(x1 - x0, 1)}" height="${num(H - PAD_B - y, 1)}" fill="#c62828" fill-opacity="0.75"><title>${esc(s.signature)}: ${num(s.perHour, 0)}/h</title></rect>`;
    })
    .join("");
  return `<svg width="${String(W)}" height="${String(H)}" viewBox="0 0 ${String(W)} ${String(H)}" role="img" aria-label="${label}">${axes(d, 0)}${bars}</svg>`;
}

function timeLabel(sec: number): string {
  return shortTime(new Date(sec * 1000).toISOString()).slice(0, 16);
}

function rateDomain(charts: TrendChart[]): Domain | undefined {
  const pts: [number, number][] = charts.flatMap((c) =>
    c.signatureRate.flatMap((s): [number, number][] => [
      [Date.parse(s.from) / 1000, s.perHour],
      [Date.parse(s.to) / 1000, s.perHour],
    ]),
  );
  return domainOf([pts], 1);
}

/** Charts are per advisory and subject; a chart without an advisory id is the report's only advisory's. */
function chartKey(report: Report, c: TrendChart): string {
  return `${c.advisoryId ?? report.verdicts[0]?.advisoryId ?? ""}\u0000${c.subject}`;
}

function smallMultiples(report: Report, status: Map<string, Status>): string {
  const charts = report.trends;
  if (charts === undefined || charts.length === 0)
    return `<h2>Trends</h2><p class="legend">No CPU or memory series were collected. Run a live scan, or add <code>--prometheus URL</code>, to see per-node trends.</p>`;
  // A chart of one of several advisories shows that advisory's verdict; else the node's worst.
  const statusOf = (c: TrendChart): Status =>
    (c.advisoryId !== undefined ? status.get(chartKey(report, c)) : status.get(c.subject)) ?? "unknown";
  const order = (c: TrendChart): number => STATUS_ORDER.indexOf(statusOf(c));
  const sorted = [...charts].sort(
    (a, b) => order(a) - order(b) || a.subject.localeCompare(b.subject, "en", { numeric: true }),
  );
  const shown = sorted.slice(0, MAX_CARDS);
  const mem = domainOf(
    shown.map((c) => c.memoryMiB),
    1,
  );
  const cpu = domainOf(
    shown.map((c) => c.cpuCores),
    0.01,
  );
  const rate = rateDomain(shown);
  const span = (d: Domain | undefined): string =>
    d ? `${timeLabel(d.x0)} → ${timeLabel(d.x1)} UTC` : "no data";
  const cards = shown.map((c) => {
    const st = statusOf(c);
    const ms = c.memorySlope;
    const memText = ms
      ? `${ms.leak ? "leak " : ""}${num(ms.mibPerHour, 1)} MiB/h [${num(ms.low, 1)}, ${num(ms.high, 1)}]`
      : "";
    const ratio = c.cpu?.peerRatio ?? c.cpu?.baselineRatio;
    const cpuText = c.cpu
      ? `${num(c.cpu.cores, 2)} cores${ratio !== undefined ? `, ${num(ratio, 1)}×` : ""}`
      : "";
    return (
      `<div class="card" style="border-color:${COLOR[st]}"><h3><span>${esc(c.subject)}${c.advisoryId !== undefined ? ` · ${esc(c.advisoryId)}` : ""}</span>${pill(st)}</h3>` +
      `<div class="lbl"><span>memory MiB</span><span class="${ms?.leak === true ? "hot" : ""}">${esc(memText)}</span></div>` +
      lineChart(c.memoryMiB, mem, {
        label: "memory MiB",
        hot: ms?.leak === true,
        digits: 0,
        resets: c.resets,
      }) +
      `<div class="lbl"><span>CPU cores</span><span class="${c.cpu?.outlier === true ? "hot" : ""}">${esc(cpuText)}</span></div>` +
      lineChart(c.cpuCores, cpu, {
        label: "CPU cores",
        hot: c.cpu?.outlier === true,
        digits: 2,
        resets: [],
      }) +
      `<div class="lbl"><span>log signature rate</span><span>${esc(c.signatureRate.map((s) => `${num(s.perHour, 0)}/h`).join(", "))}</span></div>` +
      rateChart(c, rate) +
      `</div>`
    );
  });
  const more =
    charts.length > shown.length
      ? `<p class="legend">${String(charts.length - shown.length)} more node(s) in the JSON report (<code>-o json</code>).</p>`
      : "";
  return (
    `<h2>Trends per node</h2><p class="legend">Shared axes across nodes. Memory and CPU: ${esc(span(mem ?? cpu))}; log-signature rate (mean over each signature's first to last sighting): ${esc(span(rate))}. Red lines: a leak (the slope's lower bound is above the advisory threshold) or a CPU outlier; dashed lines: restarts.</p>` +
    `<div class="grid">${cards.join("")}</div>${more}`
  );
}

function evidenceSection(report: Report): string {
  const lines = keyEvidence(report, 6, 40);
  if (lines.length === 0) return "";
  const items = lines.map(
    (e) =>
      `<li>${pill(e.status)} <b>${esc(nodeList(e.nodes, 6))}</b>: ${esc(e.message)}${e.source !== undefined && !e.message.includes(e.source) ? ` <span class="src">— ${esc(e.source)}</span>` : ""}</li>`,
  );
  return `<h2>Evidence</h2><ul class="ev">${items.join("")}</ul>`;
}

function remediationSection(report: Report): string {
  const list = remediations(report);
  if (list.length === 0) return "";
  const items = list.map(
    (r) =>
      `<li><b>${esc(r.title)}</b> <span class="src">${esc(r.kind)}, ${r.durable ? "durable" : "temporary"}</span><br>${esc(r.summary)}<ol>${r.steps.map((s) => `<li>${esc(s)}</li>`).join("")}</ol>${r.tradeoffs !== undefined ? `<div class="src">Trade-offs: ${esc(r.tradeoffs)}</div>` : ""}</li>`,
  );
  return `<h2>Remediation</h2><ol>${items.join("")}</ol>`;
}

function coverageSection(report: Report): string {
  const missing = new Set(gaps(report));
  const rows = report.coverage.map(
    (c) =>
      `<tr><td>${esc(c.check)}${c.subject !== undefined ? ` <span class="src">(${esc(c.subject)})</span>` : ""}</td><td>${missing.has(c) ? `<span class="hot">not evaluated</span>` : "evaluated"}</td><td>${esc(c.reason)}</td></tr>`,
  );
  return `<h2>Coverage</h2><table><thead><tr><th>Check</th><th>Status</th><th>Detail</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

export function renderHtml(report: Report): string {
  const title = `cnidoctor report: ${report.target.name}`;
  return htmlPage(
    title,
    `<h1>${esc(title)}</h1>
<p class="meta">${esc(targetLine(report))} · generated ${esc(report.generatedAt)} by ${esc(report.tool.name)} ${esc(report.tool.version)}</p>
${reportSections(report)}`,
  );
}

/** The report's sections below its heading; the fleet page shows one per cluster. */
export function reportSections(report: Report): string {
  // Per subject its worst status; per advisory and subject (chartKey) that advisory's.
  const status = new Map<string, Status>();
  for (const g of report.verdicts)
    for (const v of g.verdicts) {
      const prev = status.get(v.subject);
      if (prev === undefined || STATUS_ORDER.indexOf(v.status) < STATUS_ORDER.indexOf(prev))
        status.set(v.subject, v.status);
      status.set(`${g.advisoryId}\u0000${v.subject}`, v.status);
    }
  const charts = new Map((report.trends ?? []).map((c) => [chartKey(report, c), c]));
  return `${summarySection(report)}
${nodeTable(report, charts)}
${unitOf(report) !== "node" ? "" : smallMultiples(report, status)}
${evidenceSection(report)}
${remediationSection(report)}
${coverageSection(report)}`;
}

/** One self-contained page around `body` (the report's style and CSP), for the fleet page. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><main>
${body}
</main></body></html>
`;
}

export { esc as escapeHtml };
