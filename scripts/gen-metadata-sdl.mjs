#!/usr/bin/env node
// Regenerate Twenty's `/metadata` GraphQL SDL from the published genql client
// (npm package `twenty-client-sdk`).
//
// Usage:
//   node scripts/gen-metadata-sdl.mjs [PKG_DIR] [--no-known-defaults] > generated/twenty-metadata.graphql
//   PKG_DIR defaults to node_modules/twenty-client-sdk (an unpacked package dir).
//
// Why two sources: genql ships the schema twice, each lossy in a different way.
//   * dist/metadata.mjs holds the compressed type map
//       { scalars: [typeIndex...], types: { Type: { field: [typeIndex, {arg: [typeIndex, "GraphQL!"]}] } } }
//     (typeIndex = position of the type in `types` key order, as genql's own
//     linkTypeMap does). It gives every type in schema order, every field/arg in
//     order, the exact GraphQL type string of each argument, and which types are
//     leaves (scalars + enums). It has no nullability or list shape for fields.
//   * dist/metadata/generated/schema.d.ts holds the TypeScript rendering, which
//     gives field nullability and list shape (`?:`, `T[]`, `(T | null)[]`),
//     enum values, union members, whether an object-like type is an output
//     type (has `__typename: 'X'`) or an input, plus descriptions and
//     @deprecated reasons from JSDoc comments.
// Things genql drops entirely and that therefore cannot be recovered here:
// default values, scalar descriptions, deprecation of args / input fields /
// enum values, and custom directives. See KNOWN_DEFAULTS below for the few
// defaults that matter for validation.
//
// Output is in schema (type-map) order, so it is deterministic and diffs
// cleanly between package versions. Warnings go to stderr; any inconsistency
// between the two sources aborts with a non-zero exit code.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const applyKnownDefaults = !args.includes('--no-known-defaults');
const pkgDir = resolve(args.find((a) => !a.startsWith('--')) ?? 'node_modules/twenty-client-sdk');

if (!existsSync(join(pkgDir, 'dist/metadata.mjs'))) {
  process.stderr.write(`usage: gen-metadata-sdl.mjs [PKG_DIR]\nno dist/metadata.mjs under ${pkgDir} (unpack twenty-client-sdk there, e.g. npm pack twenty-client-sdk@2.43.0)\n`);
  process.exit(2);
}

const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const mjs = readFileSync(join(pkgDir, 'dist/metadata.mjs'), 'utf8');
const dts = readFileSync(join(pkgDir, 'dist/metadata/generated/schema.d.ts'), 'utf8');

const BUILTIN_SCALARS = new Set(['String', 'Int', 'Float', 'Boolean', 'ID']);

let problems = 0;
const fail = (msg) => {
  problems++;
  process.stderr.write(`error: ${msg}\n`);
};
const warn = (msg) => process.stderr.write(`warning: ${msg}\n`);

// ---------------------------------------------------------------------------
// Known default values.
//
// genql's type map drops `defaultValue`, but a NON-NULL argument/input field
// with a default is optional for clients; without the default our server would
// reject queries the real server accepts (e.g. `objects { ... }` with no
// paging/filter). These come from Twenty's own generated schema.graphql
// (packages/twenty-client-sdk/src/metadata/generated/schema.graphql in
// twentyhq/twenty) and are only applied when the coordinate still exists with
// exactly the expected type. Nullable args/fields with defaults are left out on
// purpose: they do not affect validation. Disable with --no-known-defaults.
// ---------------------------------------------------------------------------
const KNOWN_DEFAULTS = [
  // nestjs-query connection args: `paging: CursorPaging! = {first: 10}` and
  // `filter: XFilter! = {}` on every connection field (e.g. Query.objects).
  { rule: 'nestjs-query paging', kind: 'arg', name: 'paging', type: 'CursorPaging!', value: '{first: 10}' },
  { rule: 'nestjs-query filter', kind: 'arg', name: 'filter', type: /^\w+Filter!$/, sibling: 'paging', value: '{}' },
  // Billing checkout mutations.
  { coord: 'Mutation.checkoutSession(plan:)', type: 'BillingPlanKey!', value: 'PRO' },
  { coord: 'Mutation.checkoutSession(requirePaymentMethod:)', type: 'Boolean!', value: 'true' },
  { coord: 'Mutation.createSubscriptionPaymentIntent(plan:)', type: 'BillingPlanKey!', value: 'PRO' },
  { coord: 'Mutation.createSubscriptionPaymentIntent(requirePaymentMethod:)', type: 'Boolean!', value: 'true' },
  // Input field.
  { coord: 'CreateIndexInput.indexType', type: 'IndexType!', value: 'BTREE' },
];
const defaultsApplied = [];

function knownDefault(coord, kind, name, type, siblings) {
  if (!applyKnownDefaults) return '';
  for (const d of KNOWN_DEFAULTS) {
    const hit = d.coord
      ? d.coord === coord
      : d.kind === kind && d.name === name && (!d.sibling || siblings.includes(d.sibling));
    if (!hit) continue;
    const typeOk = d.type instanceof RegExp ? d.type.test(type) : d.type === type;
    if (!typeOk) {
      if (d.coord) warn(`known default for ${coord} skipped: type is ${type}, expected ${d.type}`);
      continue;
    }
    defaultsApplied.push(d.coord ?? d.rule);
    return ` = ${d.value}`;
  }
  return '';
}

// ---------------------------------------------------------------------------
// 1. Type map from metadata.mjs.
//
// The map is a plain object literal inside the bundle but is not exported, so
// we cut it out textually (locate `scalars: [`, back up to the enclosing `{`,
// brace-match forward) and turn it into JSON instead of evaluating bundle code.
// ---------------------------------------------------------------------------
function extractTypeMap(src) {
  const at = src.search(/\bscalars:\s*\[/);
  if (at < 0) throw new Error('type map (`scalars: [`) not found in metadata.mjs');
  const start = src.lastIndexOf('{', at);
  let depth = 0;
  let end = -1;
  for (let i = start, inStr = null; i < src.length; i++) {
    const c = src[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === inStr) inStr = null;
    } else if (c === '"' || c === "'") inStr = c;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (--depth === 0) {
        end = i + 1;
        break;
      }
    }
  }
  if (end < 0) throw new Error('unbalanced type map literal');
  const json = src
    .slice(start, end)
    .replace(/([{,]\s*)([A-Za-z_$][\w$]*)\s*:/g, '$1"$2":') // quote keys
    .replace(/,(\s*[}\]])/g, '$1'); // drop trailing commas
  const map = JSON.parse(json);
  if (!Array.isArray(map.scalars) || typeof map.types !== 'object') {
    throw new Error('type map has unexpected shape');
  }
  return map;
}

const typeMap = extractTypeMap(mjs);
const typeNames = Object.keys(typeMap.types); // index -> name (genql linkTypeMap semantics)
const leafNames = new Set(typeMap.scalars.map((i) => typeNames[i]));
const nameOf = (idx) => {
  const n = typeNames[idx];
  if (n === undefined) throw new Error(`type index ${idx} out of range`);
  return n;
};

// ---------------------------------------------------------------------------
// 2. schema.d.ts: top-level declarations with their preceding JSDoc.
// ---------------------------------------------------------------------------

// JSDoc as rendered by genql: optional `@deprecated reason` line first, then
// the description lines.
function parseDoc(lines) {
  if (!lines || lines.length === 0) return {};
  let deprecated;
  const text = [];
  for (const l of lines) {
    const m = l.match(/^@deprecated(?:\s+(.*))?$/);
    if (m && deprecated === undefined && text.length === 0) deprecated = m[1] ?? '';
    else text.push(l);
  }
  return { description: text.length ? text.join('\n') : undefined, deprecated };
}

// Collects a JSDoc block starting at lines[i]; returns [docLines, nextIndex].
function readComment(lines, i) {
  const first = lines[i].trim();
  const one = first.match(/^\/\*\*\s?(.*?)\s*\*\/$/);
  if (one) return [[one[1]], i + 1];
  const out = [];
  for (i++; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '*/') return [out, i + 1];
    out.push(t.replace(/^\*\s?/, ''));
  }
  throw new Error('unterminated comment in schema.d.ts');
}

const dtsLines = dts.split('\n');
const ifaces = new Map(); // name -> { doc, body: string[] }
const enums = new Map(); // name -> { doc, values }
const unionDecls = new Map(); // name -> { doc, members }
let scalarDecls = new Set();
{
  let doc = null;
  for (let i = 0; i < dtsLines.length; ) {
    const line = dtsLines[i];
    if (line.startsWith('/**')) {
      [doc, i] = readComment(dtsLines, i);
      continue;
    }
    let m;
    if ((m = line.match(/^export interface (\w+) \{$/))) {
      const body = [];
      for (i++; dtsLines[i] !== '}'; i++) body.push(dtsLines[i]);
      ifaces.set(m[1], { doc: parseDoc(doc), body });
    } else if (line === 'export type Scalars = {') {
      for (i++; dtsLines[i] !== '};'; i++) {
        const s = dtsLines[i].match(/^\s+(\w+):/);
        if (s) scalarDecls.add(s[1]);
      }
    } else if ((m = line.match(/^export type (\w+) = ('.*');$/))) {
      enums.set(m[1], { doc: parseDoc(doc), values: [...m[2].matchAll(/'([^']*)'/g)].map((v) => v[1]) });
    } else if ((m = line.match(/^export type (\w+) = \(([\w| ]+)\) & \{$/))) {
      unionDecls.set(m[1], { doc: parseDoc(doc), members: m[2].split('|').map((s) => s.trim()) });
    }
    doc = null;
    i++;
  }
}

// Members of a single-line-per-member interface body (response and input
// types): [{ name, optional, typing, doc }].
function parseMembers(body) {
  const out = [];
  let doc = null;
  for (let i = 0; i < body.length; ) {
    const t = body[i].trim();
    if (t.startsWith('/**')) {
      [doc, i] = readComment(body, i);
      continue;
    }
    const m = body[i].match(/^ {4}(\w+)(\??): (.+);$/);
    if (m) out.push({ name: m[1], optional: m[2] === '?', typing: m[3], doc: parseDoc(doc) });
    doc = null;
    i++;
  }
  return out;
}

// *GenqlSelection bodies span several lines per field; we only need the field
// JSDoc and, per argument, its JSDoc and TS typing (for cross-checking).
function parseSelection(body) {
  const fields = new Map();
  let doc = null;
  let cur = null;
  let inArgs = false;
  let argDoc = null;
  for (let i = 0; i < body.length; ) {
    const line = body[i];
    const t = line.trim();
    if (t.startsWith('/**')) {
      const [d, next] = readComment(body, i);
      if (inArgs) argDoc = d;
      else doc = d;
      i = next;
      continue;
    }
    const f = line.match(/^ {4}(\w+)\??: /);
    if (f) {
      cur = { doc: parseDoc(doc), args: new Map() };
      fields.set(f[1], cur);
      doc = null;
      inArgs = false;
    }
    if (/__args\??: \{$/.test(t)) inArgs = true;
    else if (inArgs && /^\};?$/.test(t)) inArgs = false;
    else if (inArgs) {
      const a = t.match(/^(\w+)(\??): (.+);$/);
      if (a) cur.args.set(a[1], { optional: a[2] === '?', typing: a[3], doc: parseDoc(argDoc) });
      argDoc = null;
    }
    i++;
  }
  return fields;
}

// ---------------------------------------------------------------------------
// 3. TS typing -> GraphQL type.
//
// genql renders a non-null named type as `X` / `Scalars['X']`, a nullable one
// as `(X | null)` (inputs, args) or `(X | undefined)` (outputs), and a list as
// `Inner[]`. The outermost nullability of a field is carried by `?:`.
// Returns a tree: { kind: 'named', name } | { kind: 'list', of } with
// `nullable` on each node.
// ---------------------------------------------------------------------------
function parseTyping(s, nullableTop) {
  s = s.trim();
  const wrap = s.match(/^\((.*) \| (?:null|undefined)\)$/);
  const nullable = nullableTop || !!wrap;
  const inner = wrap ? wrap[1].trim() : s;
  if (inner.endsWith('[]')) return { kind: 'list', nullable, of: parseTyping(inner.slice(0, -2), false) };
  const sc = inner.match(/^Scalars\['(\w+)'\]$/);
  if (sc) return { kind: 'named', nullable, name: sc[1] };
  if (/^\w+$/.test(inner)) return { kind: 'named', nullable, name: inner };
  throw new Error(`cannot parse TS typing: ${s}`);
}
const printType = (t) =>
  (t.kind === 'list' ? `[${printType(t.of)}]` : t.name) + (t.nullable ? '' : '!');
const namedOf = (t) => (t.kind === 'list' ? namedOf(t.of) : t.name);
// Strip the field-level `(T | null)` wrapper of an optional input/arg typing.
const fieldTyping = (m) => parseTyping(m.typing, m.optional);

// Interface fields are not rendered with nullability (genql renders an
// interface with implementations as a TS union), so take the least-strict
// shape over all implementations: the interface field must be a supertype of
// each implementing field; NestJS implementations usually match it exactly.
function mergeTypings(ts) {
  const [first, ...rest] = ts;
  const out = { ...first };
  for (const t of rest) {
    if (t.kind !== first.kind) throw new Error('implementations disagree on list shape');
    out.nullable = out.nullable || t.nullable;
  }
  if (first.kind === 'list') out.of = mergeTypings(ts.map((t) => t.of));
  else if (!ts.every((t) => t.name === first.name)) throw new Error('implementations disagree on type');
  return out;
}

// ---------------------------------------------------------------------------
// 4. Classify every type in the type map.
// ---------------------------------------------------------------------------
const kinds = new Map(); // name -> 'scalar' | 'enum' | 'object' | 'input' | 'interface' | 'union' | 'builtin'
for (const name of typeNames) {
  const fields = Object.keys(typeMap.types[name] ?? {});
  const on = fields.filter((f) => f.startsWith('on_'));
  const plain = fields.filter((f) => !f.startsWith('on_') && f !== '__typename');
  if (leafNames.has(name)) {
    if (enums.has(name)) kinds.set(name, 'enum');
    else if (BUILTIN_SCALARS.has(name)) kinds.set(name, 'builtin');
    else {
      if (!scalarDecls.has(name)) warn(`scalar ${name} not in the Scalars block of schema.d.ts`);
      kinds.set(name, 'scalar');
    }
  } else if (on.length && plain.length === 0) kinds.set(name, 'union');
  else if (on.length) kinds.set(name, 'interface');
  else {
    const decl = ifaces.get(name);
    if (!decl) {
      fail(`no TS declaration for ${name}`);
      continue;
    }
    const tn = decl.body.find((l) => /^ {4}__typename: /.test(l));
    if (!tn) kinds.set(name, 'input');
    else if (/__typename: string;/.test(tn)) kinds.set(name, 'interface'); // interface without implementations
    else kinds.set(name, 'object');
  }
}

// Possible types of each interface (genql's `on_X` entries), and the inverse.
const implementsOf = new Map();
for (const [name, kind] of kinds) {
  if (kind !== 'interface') continue;
  for (const f of Object.keys(typeMap.types[name])) {
    if (!f.startsWith('on_')) continue;
    const obj = nameOf(typeMap.types[name][f][0]);
    if (!implementsOf.has(obj)) implementsOf.set(obj, []);
    implementsOf.get(obj).push(name);
  }
}

// ---------------------------------------------------------------------------
// 5. Print.
// ---------------------------------------------------------------------------
const str = (s) => JSON.stringify(s); // JSON string escapes are valid GraphQL string escapes
const descLine = (doc, indent) => (doc?.description !== undefined ? `${indent}${str(doc.description)}\n` : '');
const deprecation = (doc) =>
  doc?.deprecated !== undefined
    ? doc.deprecated === '' || doc.deprecated === 'No longer supported'
      ? ' @deprecated'
      : ` @deprecated(reason: ${str(doc.deprecated)})`
    : '';

function printArgs(typeName, fieldName, argMap, selField) {
  const names = Object.keys(argMap ?? {});
  if (!names.length) return '';
  const parts = names.map((a) => {
    const [idx, typeStr] = argMap[a];
    const named = nameOf(idx);
    const gql = typeStr ?? named; // genql omits the string when it equals the bare (nullable) name
    if (gql.replace(/[[\]!]/g, '') !== named) fail(`${typeName}.${fieldName}(${a}:) ${gql} vs index ${named}`);
    const sel = selField?.args.get(a);
    if (!sel) fail(`${typeName}.${fieldName}(${a}:) missing from ${typeName}GenqlSelection`);
    else if (printType(fieldTyping(sel)) !== gql) {
      fail(`${typeName}.${fieldName}(${a}:) type map says ${gql}, schema.d.ts says ${printType(fieldTyping(sel))}`);
    }
    const def = knownDefault(`${typeName}.${fieldName}(${a}:)`, 'arg', a, gql, names);
    return { text: `${a}: ${gql}${def}`, doc: sel?.doc };
  });
  // Same layout as graphql-js printSchema: inline unless an argument has a description.
  if (parts.every((p) => p.doc?.description === undefined)) return `(${parts.map((p) => p.text).join(', ')})`;
  return `(\n${parts.map((p) => `${descLine(p.doc, '    ')}    ${p.text}`).join('\n')}\n  )`;
}

function printObjectLike(name, kind) {
  const entry = typeMap.types[name];
  const decl = ifaces.get(name);
  const sel = ifaces.get(`${name}GenqlSelection`);
  const selFields = sel ? parseSelection(sel.body) : new Map();
  const members = decl ? new Map(parseMembers(decl.body).map((m) => [m.name, m])) : new Map();
  const lines = [];
  for (const f of Object.keys(entry)) {
    if (f === '__typename' || f.startsWith('on_')) continue;
    const named = nameOf(entry[f][0]);
    let typing;
    let doc;
    if (kind === 'interface' && !members.size) {
      const impls = Object.keys(entry)
        .filter((k) => k.startsWith('on_'))
        .map((k) => nameOf(entry[k][0]));
      typing = mergeTypings(
        impls.map((o) => {
          const m = parseMembers(ifaces.get(o).body).find((x) => x.name === f);
          if (!m) throw new Error(`${o} lacks interface field ${name}.${f}`);
          return parseTyping(m.typing, m.optional);
        }),
      );
      doc = selFields.get(f)?.doc;
    } else {
      const m = members.get(f);
      if (!m) {
        fail(`${name}.${f} missing from schema.d.ts`);
        continue;
      }
      typing = fieldTyping(m);
      doc = m.doc;
    }
    if (namedOf(typing) !== named) fail(`${name}.${f}: type map ${named} vs schema.d.ts ${namedOf(typing)}`);
    const gql = printType(typing);
    const argText = kind === 'input' ? '' : printArgs(name, f, entry[f][1], selFields.get(f));
    const def = kind === 'input' ? knownDefault(`${name}.${f}`, 'input', f, gql, []) : '';
    lines.push(`${descLine(doc, '  ')}  ${f}${argText}: ${gql}${def}${kind === 'input' ? '' : deprecation(doc)}`);
  }
  const keyword = kind === 'input' ? 'input' : kind === 'interface' ? 'interface' : 'type';
  const impl = implementsOf.get(name);
  const head = `${keyword} ${name}${impl ? ` implements ${impl.join(' & ')}` : ''}`;
  const doc = decl?.doc ?? unionDecls.get(name)?.doc ?? sel?.doc;
  return `${descLine(doc, '')}${head} {\n${lines.join('\n')}\n}`;
}

const blocks = [];
const counts = {};
for (const name of typeNames) {
  const kind = kinds.get(name);
  if (!kind || kind === 'builtin') continue;
  counts[kind] = (counts[kind] ?? 0) + 1;
  if (kind === 'scalar') blocks.push(`scalar ${name}`);
  else if (kind === 'enum') {
    const e = enums.get(name);
    blocks.push(`${descLine(e.doc, '')}enum ${name} {\n${e.values.map((v) => `  ${v}`).join('\n')}\n}`);
  } else if (kind === 'union') {
    const members = Object.keys(typeMap.types[name])
      .filter((f) => f.startsWith('on_'))
      .map((f) => nameOf(typeMap.types[name][f][0]))
      .filter((m) => kinds.get(m) === 'object'); // genql also lists members' interfaces
    const decl = unionDecls.get(name);
    if (!decl || decl.members.join() !== members.join()) fail(`union ${name} members disagree with schema.d.ts`);
    blocks.push(`${descLine(decl?.doc, '')}union ${name} = ${members.join(' | ')}`);
  } else blocks.push(printObjectLike(name, kind));
}

const roots = ['query', 'mutation', 'subscription']
  .map((op) => [op, op[0].toUpperCase() + op.slice(1)])
  .filter(([, t]) => kinds.get(t) === 'object');

const header = [
  `# Twenty CRM /metadata GraphQL schema, reconstructed from ${pkg.name}@${pkg.version}`,
  `# (dist/metadata.mjs type map + dist/metadata/generated/schema.d.ts).`,
  `# Generated by scripts/gen-metadata-sdl.mjs - do not edit by hand.`,
  `# Not recoverable from the package: default values (except the known non-null`,
  `# ones applied by the generator${applyKnownDefaults ? '' : ', disabled for this run'}), scalar descriptions, and deprecation of`,
  `# arguments, input fields and enum values.`,
].join('\n');

const schemaBlock = roots.length ? `schema {\n${roots.map(([op, t]) => `  ${op}: ${t}`).join('\n')}\n}` : null;
process.stdout.write([header, schemaBlock, ...blocks].filter(Boolean).join('\n\n') + '\n');

process.stderr.write(
  `${pkg.name}@${pkg.version}: ${Object.entries(counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')}; known defaults applied: ${defaultsApplied.length}\n`,
);
if (problems) {
  process.stderr.write(`${problems} inconsistencies between metadata.mjs and schema.d.ts\n`);
  process.exit(1);
}
