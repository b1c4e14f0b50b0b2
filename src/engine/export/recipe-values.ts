// Literal values for the cluster bundle's Python script and YAML config (recipes.ts). Numbers keep their exact
// double: JS's shortest round-trip form is also Python's; YAML 1.1 readers (PyYAML, which Axolotl uses) only
// take an exponent with a dot in the mantissa and a signed exponent ("1.0e-7"; "1e-7" would be a string).
// Strings use JSON escapes, which are valid in Python string literals and YAML double-quoted scalars.

/** Python literal of a number: integers as integers, other values in their shortest exact form. */
export function pyNum(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`);
  return String(x);
}

/** Python float literal: as pyNum, with ".0" on integral values so the type reads as float. */
export function pyFloat(x: number): string {
  const s = pyNum(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** A JSON-like value as a Python literal (True/False/None, lists, dicts with string keys). */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyNum(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyLiteral(x)}`)
      .join(', ')}}`;
  throw new Error(`no Python literal for ${typeof v}`);
}

/** YAML 1.1 float: "0.0002", "1.0e-7", "2.0" (never read back as a string or an int). */
export function yamlFloat(x: number): string {
  const s = pyFloat(x);
  const i = s.indexOf('e');
  if (i < 0) return s;
  let [m, e] = [s.slice(0, i), s.slice(i + 1)];
  if (!m.includes('.')) m += '.0';
  if (e[0] !== '-' && e[0] !== '+') e = `+${e}`;
  return `${m}e${e}`;
}

/** YAML scalar: numbers as written by pyNum (floats through yamlFloat), strings double-quoted. */
export function yamlScalar(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? pyNum(v) : yamlFloat(v);
  return JSON.stringify(v);
}

/** PEFT's LoraConfig(...) call for both scripts, its lines indented by `indent` (the closing paren one level less). */
export function pyLoraConfig(
  c: { rank: number; alpha: number; dropout: number; rslora: boolean },
  targets: string | readonly string[],
  indent: string,
): string {
  const args = [
    `r=${c.rank},`,
    `lora_alpha=${pyNum(c.alpha)},`,
    `lora_dropout=${pyFloat(c.dropout)},`,
    `target_modules=${pyLiteral(targets)},`,
    `use_rslora=${pyLiteral(c.rslora)},`,
    'bias="none",',
    'task_type="CAUSAL_LM",',
  ];
  return `LoraConfig(\n${args.map((a) => indent + a).join('\n')}\n${indent.slice(4)})`;
}
