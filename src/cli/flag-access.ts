// The typed accessor of the flag table: a command reads `flagValue(args, "timeout")` and gets the
// value parsed by the flag's value type (seconds, bytes, a list …), with the table's default when
// the flag was not given. There is no fallback argument on purpose: a default lives in flags.ts
// only. Each value is parsed once per parsed command line; a bad one is a one-line UsageError.

import { UsageError } from "../errors.js";
import { defaultFor, FLAGS, specFor, valuesFor, type FlagName, type FlagSpec } from "./flags.js";
import type { ValueType } from "./flag-values.js";
import type { ParsedArgs } from "./parse-flags.js";

type Spec = (typeof FLAGS)[number];
type Named<N> = Extract<Spec, { name: N }>;
type Parsed<N> = Named<N>["value"] extends ValueType<infer T> ? T : never;

/** A boolean flag is false when absent; a flag with a default always has a value. */
export type FlagValue<N extends FlagName> =
  Parsed<N> extends boolean
    ? boolean
    : Named<N> extends { default: string }
      ? Parsed<N>
      : Parsed<N> | undefined;

const parsedOnce = new WeakMap<ParsedArgs, Map<string, unknown>>();

function orList(values: readonly string[]): string {
  return values.length < 2 ? values.join("") : `${values.slice(0, -1).join(", ")} or ${values.at(-1) ?? ""}`;
}

function parse(spec: FlagSpec, args: ParsedArgs): unknown {
  const raw = args.flags[spec.name] ?? defaultFor(spec, args.command);
  if (spec.value.kind === "boolean") return raw === true || raw === "true";
  if (raw === undefined || typeof raw === "boolean") return undefined;
  const value = spec.value.parse(raw, {
    flag: args.spelled?.[spec.name] ?? spec.name,
    command: args.command,
  });
  const allowed = valuesFor(spec, args.command);
  if (allowed !== undefined && typeof value === "string" && !allowed.includes(value))
    throw new UsageError(
      `${args.command}: ${spec.short !== undefined ? `-${spec.short}` : `--${spec.name}`} must be ${orList(allowed)}`,
    );
  return value;
}

/**
 * The value of flag `name` on the command `args` was parsed for. A flag the command does not take
 * has its table default there (shared code may ask, e.g. for --request-timeout on rollback).
 */
export function flagValue<N extends FlagName>(args: ParsedArgs, name: N): FlagValue<N> {
  let memo = parsedOnce.get(args);
  if (memo === undefined) {
    memo = new Map();
    parsedOnce.set(args, memo);
  }
  if (memo.has(name)) return memo.get(name) as FlagValue<N>;
  const spec = specFor(name, args.command) ?? FLAGS.find((f: FlagSpec) => f.name === name);
  if (spec === undefined) throw new Error(`--${name} is not in the flag table`);
  const value = parse(spec, args);
  memo.set(name, value);
  return value as FlagValue<N>;
}

/** The flag's text as given (or its default), for messages that echo what the user wrote. */
export function flagText(args: ParsedArgs, name: FlagName): string | undefined {
  const spec = specFor(name, args.command) ?? FLAGS.find((f: FlagSpec) => f.name === name);
  const raw = args.flags[name] ?? (spec !== undefined ? defaultFor(spec, args.command) : undefined);
  return typeof raw === "string" ? raw : undefined;
}
