import {
  type FeatureDescription,
  type FeatureInput,
  FeatureTypeError,
  type FeatureValue,
  InvalidValueError,
  type NodeMap,
  NotWritableError,
  OutOfRangeError,
  UnknownFeatureError,
} from '@cam/genicam';
import { jsonReplacer, UsageError } from './output.js';

/** An unknown feature name, with the closest names the camera has. */
export class UnknownFeatureNameError extends UnknownFeatureError {
  static override readonly errorName: string = 'UnknownFeatureNameError';
  readonly suggestions: readonly string[];
  constructor(feature: string, suggestions: readonly string[]) {
    super(feature);
    this.suggestions = suggestions;
    if (suggestions.length > 0) this.message += ` (did you mean ${suggestions.join(', ')}?)`;
  }
}

/** Edit distance (insert, delete, substitute, swap of neighbours), case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) d[0]![j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[s.length]![t.length]!;
}

/** Up to three names close to `name` (typos, wrong case, a missing prefix), nearest first. */
export function suggestNames(name: string, candidates: readonly string[]): string[] {
  const lower = name.toLowerCase();
  const scored: { name: string; score: number }[] = [];
  const limit = Math.max(2, Math.floor(name.length / 3));
  for (const c of candidates) {
    const cl = c.toLowerCase();
    let score: number;
    if (cl === lower) score = 0;
    else if (lower.length >= 4 && (cl.includes(lower) || lower.includes(cl)))
      score = 1 + Math.abs(c.length - name.length) / 100;
    else score = distance(name, c);
    if (score <= limit) scored.push({ name: c, score });
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, 3).map((s) => s.name);
}

/** The feature names of a node map (the category walk), falling back to every node when there is no Root. */
export function featureNames(map: NodeMap): string[] {
  try {
    const names = map.features().map((f) => f.name);
    if (names.length > 0) return names;
  } catch {
    // no Root category: every node
  }
  return map.names();
}

/** Checks that `name` exists; throws an UnknownFeatureError with suggestions otherwise. */
export function resolveFeature(map: NodeMap, name: string): string {
  if (map.has(name)) return name;
  throw new UnknownFeatureNameError(name, suggestNames(name, featureNames(map)));
}

/** A feature value for a person: bytes as hex, everything else as text. */
export function showValue(v: FeatureValue | undefined): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : String(jsonReplacer('', v));
}

/** One validated write of a plan: the feature, the value as the node map takes it, and how it was asked for. */
export interface PlannedWrite {
  readonly feature: string;
  /** The value to write; for a Command, `execute` runs it. */
  readonly value: FeatureInput;
  readonly execute: boolean;
  readonly text: string;
}

function parseInteger(feature: string, text: string): bigint {
  const t = text.trim();
  if (!/^(-?[0-9]+|0x[0-9a-f]+)$/i.test(t)) throw new InvalidValueError(feature, `"${text}" is not an integer`);
  return BigInt(t);
}

function parseBoolean(feature: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(t)) return true;
  if (['0', 'false', 'off', 'no'].includes(t)) return false;
  throw new InvalidValueError(feature, `"${text}" is not a boolean (true/false, 1/0)`);
}

/**
 * Validates one `Name=value` against the camera as it is now: the name exists, the feature is writable, the value
 * parses for its type and lies within [min, max] on the increment grid, an enumeration entry is available. Reads
 * live properties (access, range, entries) but writes nothing.
 */
export async function planWrite(map: NodeMap, feature: string, text: string): Promise<PlannedWrite> {
  resolveFeature(map, feature);
  const d: FeatureDescription = await map.describe(feature);
  if (d.access !== 'RW' && d.access !== 'WO') throw new NotWritableError(feature, d.access);
  switch (d.interface) {
    case 'IInteger': {
      const v = parseInteger(feature, text);
      const min = d.min === undefined ? undefined : BigInt(d.min);
      const max = d.max === undefined ? undefined : BigInt(d.max);
      const inc = d.inc === undefined ? 1n : BigInt(d.inc);
      if ((min !== undefined && v < min) || (max !== undefined && v > max))
        throw new OutOfRangeError(feature, v, d.min ?? Number.NEGATIVE_INFINITY, d.max ?? Number.POSITIVE_INFINITY);
      if (inc > 1n && min !== undefined && (v - min) % inc !== 0n)
        throw new OutOfRangeError(
          feature,
          v,
          d.min ?? Number.NEGATIVE_INFINITY,
          d.max ?? Number.POSITIVE_INFINITY,
          d.inc,
        );
      return { feature, value: v, execute: false, text };
    }
    case 'IFloat': {
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v)) throw new InvalidValueError(feature, `"${text}" is not a number`);
      if ((d.min !== undefined && v < Number(d.min)) || (d.max !== undefined && v > Number(d.max)))
        throw new OutOfRangeError(feature, v, d.min ?? Number.NEGATIVE_INFINITY, d.max ?? Number.POSITIVE_INFINITY);
      return { feature, value: v, execute: false, text };
    }
    case 'IBoolean':
      return { feature, value: parseBoolean(feature, text), execute: false, text };
    case 'IEnumeration': {
      const entries = d.entries ?? [];
      const available = entries.filter((e) => e.available);
      const byName = available.find((e) => e.name === text);
      if (byName) return { feature, value: byName.name, execute: false, text };
      if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(text.trim())) {
        const n = BigInt(text.trim());
        const byValue = available.find((e) => BigInt(e.value) === n);
        if (byValue) return { feature, value: byValue.name, execute: false, text };
      }
      const names = available.map((e) => e.name);
      const near = suggestNames(text, names);
      throw new InvalidValueError(
        feature,
        `"${text}" is not an available entry${near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : ''}`,
        names,
      );
    }
    case 'IString':
      if (d.length !== undefined && new TextEncoder().encode(text).byteLength > d.length)
        throw new InvalidValueError(feature, `"${text}" is longer than ${d.length} bytes`);
      return { feature, value: text, execute: false, text };
    case 'ICommand':
      // `Name=1` (or true) runs a command, like arv-tool control; nothing else means anything
      if (text !== '' && !parseBoolean(feature, text))
        throw new InvalidValueError(feature, 'a command only takes 1 (execute); or use cam gige exec');
      return { feature, value: true, execute: true, text };
    case 'IRegister': {
      const hex = text.trim().replace(/^0x/i, '');
      if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new InvalidValueError(feature, `"${text}" is not hex bytes`);
      const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
      if (d.length !== undefined && bytes.byteLength !== d.length)
        throw new InvalidValueError(feature, `needs ${d.length} bytes, got ${bytes.byteLength}`);
      return { feature, value: bytes, execute: false, text };
    }
    default:
      throw new FeatureTypeError(feature, d.type, 'cannot be written');
  }
}

/** Validates every write before any happens: the first problem throws and the camera is untouched. */
export async function planWrites(map: NodeMap, assignments: readonly { feature: string; text: string }[]) {
  const plan: PlannedWrite[] = [];
  for (const a of assignments) plan.push(await planWrite(map, a.feature, a.text));
  return plan;
}

/** A write on the wire failed after others had succeeded: names exactly which were written. */
export class PartialWriteError extends Error {
  override readonly name = 'PartialWriteError';
  constructor(
    readonly written: readonly string[],
    readonly failed: string,
    readonly notAttempted: readonly string[],
    override readonly cause: unknown,
  ) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      `${failed} failed (${reason}); ${written.length > 0 ? `already written: ${written.join(', ')}` : 'nothing was written before it'}${notAttempted.length > 0 ? `; not attempted: ${notAttempted.join(', ')}` : ''}`,
    );
  }
}

/** One step of a multi-write: what to call it in messages, and the write itself. */
export interface WriteStep<R> {
  readonly label: string;
  run(): Promise<R>;
}

/**
 * Runs steps in order. A failure after the first step throws {@link PartialWriteError} naming exactly the steps
 * that happened; a failure of the first rethrows as is (nothing was written).
 */
export async function applySteps<R>(steps: readonly WriteStep<R>[]): Promise<R[]> {
  const done: R[] = [];
  for (const [i, step] of steps.entries()) {
    try {
      done.push(await step.run());
    } catch (e) {
      if (i === 0) throw e;
      const labels = steps.map((s) => s.label);
      throw new PartialWriteError(labels.slice(0, i), labels[i]!, labels.slice(i + 1), e);
    }
  }
  return done;
}

/** The result of one feature write: the value read back (absent for write-only), or that a command ran. */
export interface WriteResult {
  name: string;
  value?: FeatureValue;
  executed?: true;
}

/** The step that applies one validated feature write (execute for commands) and reads the value back. */
export function featureStep(map: NodeMap, w: PlannedWrite): WriteStep<WriteResult> {
  return {
    label: w.execute ? `${w.feature} (execute)` : `${w.feature}=${w.text}`,
    run: async () => {
      if (w.execute) {
        await map.execute(w.feature);
        return { name: w.feature, executed: true };
      }
      await map.set(w.feature, w.value);
      try {
        return { name: w.feature, value: await map.get(w.feature) };
      } catch {
        return { name: w.feature }; // write-only: nothing to read back
      }
    },
  };
}

/** Applies a validated plan in order (see {@link applySteps}). */
export function applyWrites(map: NodeMap, plan: readonly PlannedWrite[]): Promise<WriteResult[]> {
  return applySteps(plan.map((w) => featureStep(map, w)));
}

/** Parses `Name=value` assignments (repeatable `--set`). */
export function parseAssignments(list: readonly string[], what = 'assignment'): { feature: string; text: string }[] {
  return list.map((s) => {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} "${s}" is not Name=VALUE`);
    return { feature: s.slice(0, eq), text: s.slice(eq + 1) };
  });
}

/** Range, unit and access of a description, arv-tool style: `[RW] 1..1024 step 2 px`. */
export function describeBrief(d: FeatureDescription): string {
  const parts = [`[${d.access}]`];
  if (d.min !== undefined || d.max !== undefined) {
    let range = `${d.min ?? ''}..${d.max ?? ''}`;
    if (d.inc !== undefined && String(d.inc) !== '1') range += ` step ${d.inc}`;
    parts.push(range);
  }
  if (d.unit) parts.push(d.unit);
  if (d.entries && d.entries.length > 0)
    parts.push(
      `{${d.entries
        .filter((e) => e.available)
        .map((e) => e.name)
        .join(', ')}}`,
    );
  return parts.join(' ');
}
