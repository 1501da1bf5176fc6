// The capture shapes the reader knows, in the order it tries them. Adding a shape is one module
// here and its tests (src/logs/envelopes.test.ts wraps every excerpt fixture in every shape).
// CRI and Docker's exact json-file layout are read by the fast path itself (lines.ts, the kernel);
// the modules below cover everything else and take the exact path.

import { dockerJson } from "./docker-json.js";
import { elastic } from "./elastic.js";
import { elasticCsv } from "./elastic-csv.js";
import { fluent } from "./fluent.js";
import { grafanaTxt } from "./grafana-txt.js";
import { journalText } from "./journal-text.js";
import { journald } from "./journald.js";
import { kubectlPrefix } from "./kubectl-prefix.js";
import { kubectlTimestamps } from "./kubectl-timestamps.js";
import { logcli } from "./logcli.js";
import { loki } from "./loki.js";
import { quoted } from "./quoted.js";
import { stern } from "./stern.js";
import type { JsonShape, TableShape, TextShape } from "./types.js";

export { csvFields } from "./elastic-csv.js";
export { OPEN_ROW } from "./types.js";
export type { JsonShape, RowReader, Shape, TableRow, TableShape, TextShape, Unwrapped } from "./types.js";

/** JSON-lines shapes, most specific first (fluent before docker: both have `log`). */
export const JSON_SHAPES: readonly JsonShape[] = [journald, loki, fluent, dockerJson, elastic];

/** Text prefixes; a line may carry several (`--prefix` then `--timestamps`), outermost first. */
// logcli before kubectl --timestamps: both start with an RFC 3339 time, logcli's has labels after it.
export const TEXT_SHAPES: readonly TextShape[] = [
  kubectlPrefix,
  stern,
  logcli,
  kubectlTimestamps,
  grafanaTxt,
  journalText,
  quoted,
];

/** Shapes with a header row (CSV exports): a header line starts a table read row by row. */
export const TABLE_SHAPES: readonly TableShape[] = [elasticCsv];
