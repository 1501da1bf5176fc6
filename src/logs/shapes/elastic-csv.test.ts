import { test } from "node:test";
import assert from "node:assert/strict";
import { csvFields, elasticCsv } from "./elastic-csv.js";
import { OPEN_ROW, type RowReader, type TableRow } from "./types.js";

const KIBANA = '"@timestamp",kubernetes.node.name,kubernetes.pod.name,kubernetes.container.name,message';

function reader(header: string): RowReader {
  const r = elasticCsv.header(header);
  assert.ok(r, header);
  return r;
}

function row(r: RowReader, line: string): TableRow {
  const got = r.line(line);
  assert.ok(got !== undefined && got !== OPEN_ROW, line);
  return got;
}

test("headers: Kibana's and the SQL API's are recognised; prose and other tables are not", () => {
  assert.ok(elasticCsv.header(KIBANA));
  assert.ok(elasticCsv.header("@timestamp,log,kubernetes.pod_name,kubernetes.container_name,host.name"));
  assert.ok(elasticCsv.header("message,host.name"));
  // No message column, no time or subject column, blanks in names: not this shape.
  assert.equal(elasticCsv.header('"@timestamp",clientip,extension'), undefined);
  assert.equal(elasticCsv.header("message,level"), undefined);
  assert.equal(elasticCsv.header("log in, then check the message, timestamp and pod"), undefined);
  assert.equal(elasticCsv.header("2024-01-01 10:00:00.000 [INFO][1] felix/x.go 1: message,log"), undefined);
});

test("RFC 4180: quoted commas, doubled quotes, empty fields", () => {
  assert.deepEqual(csvFields('a,"b,c","say ""hi""",,'), ["a", "b,c", 'say "hi"', "", ""]);
  assert.deepEqual(csvFields('"open, still'), undefined);
  assert.deepEqual(csvFields('x,"open, still', true), ["x", "open, still"]);
});

test("a row: message, subject and a Kibana time that only orders (it names no zone)", () => {
  const r = reader(KIBANA);
  const got = row(
    r,
    '"Dec 5, 2024 @ 10:00:00.123",worker-1,calico-node-x7k2p,calico-node,"2024-12-05 10:00:00.123 [WARNING][53] felix/a.go 1: x=1, y=""2"""',
  );
  assert.equal(got.message, '2024-12-05 10:00:00.123 [WARNING][53] felix/a.go 1: x=1, y="2"');
  assert.equal(got.timeMs, undefined);
  assert.equal(got.orderMs, Date.UTC(2024, 11, 5, 10, 0, 0, 123));
  assert.deepEqual([got.node, got.pod, got.container], ["worker-1", "calico-node-x7k2p", "calico-node"]);
});

test("a row: an ISO time with its zone is the row's time; '-' is a missing subject", () => {
  const r = reader("@timestamp,log,kubernetes.pod_name,host.name");
  const got = row(r, "2024-12-05T10:00:00.5+01:00,libbpf: failed,-,worker-2");
  assert.equal(got.timeMs, Date.UTC(2024, 11, 5, 9, 0, 0, 500));
  assert.equal(got.pod, undefined);
  assert.equal(got.node, "worker-2");
});

test("a quoted field over several lines is one row; CR before each line break is the caller's", () => {
  const r = reader(KIBANA);
  assert.equal(r.line('"Dec 5, 2024 @ 10:00:00.000",n,p,c,"first line'), OPEN_ROW);
  assert.equal(r.line("  second, with a comma"), OPEN_ROW);
  const got = row(r, 'third ""quoted"" end"');
  assert.equal(got.message, 'first line\n  second, with a comma\nthird "quoted" end');
  assert.deepEqual(r.takeOpen(), []);
});

test("Kibana's formula escaping is undone; the header again (concatenated exports) is no row", () => {
  const r = reader(KIBANA);
  assert.equal(row(r, '"Dec 5, 2024 @ 10:00:00.000",n,p,c,\'-- snip --').message, "-- snip --");
  assert.equal(row(r, '"Dec 5, 2024 @ 10:00:00.000",n,p,c,\'plain').message, "'plain");
  assert.equal(r.line(KIBANA), undefined);
  assert.equal(r.line("a line with, too few fields"), undefined);
});

test("a quote never closed: the reader gives its lines back", () => {
  const r = reader(KIBANA);
  assert.equal(r.line('"Dec 5, 2024 @ 10:00:00.000",n,p,c,"never closed'), OPEN_ROW);
  assert.equal(r.line("next"), OPEN_ROW);
  assert.deepEqual(r.takeOpen(), ['"Dec 5, 2024 @ 10:00:00.000",n,p,c,"never closed', "next"]);
  assert.equal(row(r, '"Dec 5, 2024 @ 10:00:01.000",n,p,c,fine').message, "fine");
});
