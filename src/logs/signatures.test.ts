import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Signature } from "../model/advisory.js";
import { compileSignatures, LogScanner, SignatureCompileError } from "./index.js";

const HEADER =
  "2024-05-26 10:15:17.684 [WARNING][100656] felix/int_dataplane.go 1747: failed to wipe the XDP state error=" +
  "failed to load BPF program (/usr/lib/calico/bpf/filter.o): stat /sys/fs/bpf/calico/xdp/prefilter_v1_calico_tmp_A: no such file or directory";

const SYMPTOM: Signature = {
  id: "wipe-btf",
  role: "symptom",
  description: "test",
  prefilter: ["failed to wipe the XDP state"],
  header: "failed to wipe the XDP state .*filter\\.o",
  any: ["Error loading BTF: Invalid argument\\(22\\)", "Error loading \\.BTF into kernel: -22"],
  none: ["Operation not permitted|/tmp/felix-bpf-|vmlinux"],
};

function countFor(signature: Signature, lines: string[]): { count: number; samples: string[] } {
  const scanner = new LogScanner(compileSignatures([{ id: "A", signatures: [signature], fingerprints: [] }]));
  for (const line of lines) scanner.pushLine(line);
  const stat = scanner.finish().signals.find((s) => s.signatureId === signature.id);
  return { count: stat?.count ?? 0, samples: stat?.samples ?? [] };
}

describe("compileSignatures", () => {
  test("a bad regex throws a typed error naming the advisory, signature and field", () => {
    const bad: Signature = { ...SYMPTOM, id: "broken", any: ["ok", "(unclosed"] };
    assert.throws(
      () => compileSignatures([{ id: "CNID-X", signatures: [bad], fingerprints: [] }]),
      (error: unknown) =>
        error instanceof SignatureCompileError &&
        error.advisoryId === "CNID-X" &&
        error.signatureId === "broken" &&
        error.field === "any[1]" &&
        error.message.includes("CNID-X") &&
        error.message.includes("broken"),
    );
  });

  test("a bad header regex and an empty prefilter are rejected too", () => {
    assert.throws(
      () => compileSignatures([{ id: "A", signatures: [{ ...SYMPTOM, header: "[" }], fingerprints: [] }]),
      SignatureCompileError,
    );
    assert.throws(
      () => compileSignatures([{ id: "A", signatures: [{ ...SYMPTOM, prefilter: [] }], fingerprints: [] }]),
      /prefilter/,
    );
  });

  test("an empty advisory list compiles and matches nothing", () => {
    const scanner = new LogScanner(compileSignatures([]));
    scanner.pushLine(HEADER);
    const scan = scanner.finish();
    assert.equal(scan.lines, 1);
    assert.deepEqual(scan.signals, []);
  });
});

describe("signature matching: prefilter, header, all, any, none", () => {
  const cases: { name: string; signature: Signature; lines: string[]; count: number }[] = [
    {
      name: "header + any (in a continuation line) matches",
      signature: SYMPTOM,
      lines: [
        HEADER,
        "libbpf: Error loading BTF: Invalid argument(22)",
        "Error: failed to open object file",
        " try=3",
      ],
      count: 1,
    },
    {
      name: "the second any alternative alone matches",
      signature: SYMPTOM,
      lines: [HEADER, "libbpf: Error loading .BTF into kernel: -22."],
      count: 1,
    },
    {
      name: "no any alternative: no match",
      signature: SYMPTOM,
      lines: [HEADER, "Error: failed to open object file", " try=3"],
      count: 0,
    },
    {
      name: "none excludes the EPERM lookalike",
      signature: SYMPTOM,
      lines: [
        HEADER,
        "libbpf: Error loading BTF: Invalid argument(22)",
        "libbpf: ... Operation not permitted(1).",
      ],
      count: 0,
    },
    {
      name: "none excludes a vmlinux lookalike anywhere in the record",
      signature: SYMPTOM,
      lines: [
        HEADER,
        "libbpf: Error loading BTF: Invalid argument(22)",
        "libbpf: Error loading vmlinux BTF: -3",
      ],
      count: 0,
    },
    {
      name: "header must match the first line, not a continuation line",
      signature: SYMPTOM,
      lines: [
        "2024-05-26 10:15:17.684 [WARNING][1] felix/int_dataplane.go 1747: something else",
        "failed to wipe the XDP state (/usr/lib/calico/bpf/filter.o)",
        "libbpf: Error loading BTF: Invalid argument(22)",
      ],
      count: 0,
    },
    {
      name: "prefilter literal missing: regexes never decide",
      signature: { ...SYMPTOM, prefilter: ["no such literal"] },
      lines: [HEADER, "libbpf: Error loading BTF: Invalid argument(22)"],
      count: 0,
    },
    {
      name: "all: every regex must match somewhere",
      signature: {
        id: "all",
        role: "corroborating",
        description: "",
        prefilter: ["libbpf"],
        all: ["magic: 0xeb9f", "btf_total_size: 2102"],
      },
      lines: [HEADER, "libbpf: magic: 0xeb9f", "version: 1", "btf_total_size: 2102"],
      count: 1,
    },
    {
      name: "all: one missing regex fails",
      signature: {
        id: "all",
        role: "corroborating",
        description: "",
        prefilter: ["libbpf"],
        all: ["magic: 0xeb9f", "btf_total_size: 9999"],
      },
      lines: [HEADER, "libbpf: magic: 0xeb9f", "btf_total_size: 2102"],
      count: 0,
    },
    {
      name: "a record matches several signatures; each line's record is separate",
      signature: { id: "lit", role: "context", description: "", prefilter: ["try="] },
      lines: [HEADER, " try=0", HEADER, " try=1", HEADER],
      count: 2,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(countFor(c.signature, c.lines).count, c.count);
    });
  }

  test("regexes are compiled without flags (case matters)", () => {
    const sig: Signature = {
      id: "case",
      role: "context",
      description: "",
      prefilter: ["XDP"],
      all: ["xdp state"],
    };
    assert.equal(countFor(sig, [HEADER]).count, 0);
  });

  test("a sample is the header, plus the continuation line that decided the match", () => {
    const { samples } = countFor(SYMPTOM, [
      HEADER,
      "version: 1",
      "libbpf: Error loading .BTF into kernel: -22.",
    ]);
    assert.deepEqual(samples, [`${HEADER.slice(0, 300)}\nlibbpf: Error loading .BTF into kernel: -22.`]);
    const headerOnly = countFor({ ...SYMPTOM, any: ["filter\\.o"] }, [HEADER, "version: 1"]);
    assert.deepEqual(headerOnly.samples, [HEADER.slice(0, 300)]);
  });

  test("literals with JSON-escaped characters are found in docker json-file lines", () => {
    const sig: Signature = {
      id: "quoted",
      role: "lookalike",
      description: "",
      prefilter: ['"dev" is duplicate'],
      any: ['"dev" is duplicate, or "xdpgeneric" is a garbage'],
    };
    const message =
      '2019-06-01 10:00:00.000 [WARNING][1] felix/xdp.go 10: failed to attach XDP program: "dev" is duplicate, or "xdpgeneric" is a garbage\n';
    const line = JSON.stringify({ log: message, stream: "stderr", time: "2019-06-01T10:00:00.123456789Z" });
    assert.equal(countFor(sig, [line]).count, 1);
  });
});
