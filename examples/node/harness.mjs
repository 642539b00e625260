// Runs a JavaScript implementation on gradref's test vectors and writes a results file that
// `gradref check-results` judges (docs/checking-your-own.md, "Another language").
//
//     node examples/node/harness.mjs VECTORS_DIR OUT.json [--ops MODULE.mjs]
//     gradref check-results VECTORS_DIR OUT.json
//
// The ops module (default: notes.mjs next to this file) exports the functions each vector file
// names in `functions`, called as its `call` says, in JavaScript clothes:
//   "pair" style:  const [out, cache] = op_forward(...args)     ([out1, out2, cache] for two outputs)
//                  const grads = op_backward(dout, cache)       ([dx, dy, ...]; one gradient alone)
//   "loss" style:  const [loss, grads] = op(...args)            (grads: {W: dW, b: db, ...} by input
//                                                                name, or [dW, db, ...] in order)
// Arrays are nested JS arrays in C order, scalars plain numbers; labels are integers. A case whose
// functions the module does not export (both, for a pair) is left out: check-results lists it as
// not implemented. Model classes (style "loss" with a `model`) are not run here.
//
// What the harness observes goes into the file as gradref's own `gradref results` writes it: an
// exception is a line in the sample's "problems" ("multiply_backward raised TypeError: ...
// (notes.mjs, line 42)"), which fails that sample's test_well_behaved; the outputs it did get are
// still written. Inputs and upstream gradients are frozen, so a backward that writes into them
// raises and is reported the same way. A crash of node itself or a hang is not caught (no
// "status" entries): run one process per case if you need that.
//
// Floats: JSON.stringify writes each number as the shortest decimal that reads back as the same
// float64 (like Python's repr), so values keep every bit. It would write NaN and +-Infinity as
// null, which check-results refuses as "not a number"; they are written as the strings "nan",
// "inf" and "-inf", which it reads (and fails as non-finite). -0 is written as 0.

import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const MAX_MESSAGE = 300; // characters of a problem kept, as gradref's fold()

function usage(why) {
  console.error(`${why}\nusage: node harness.mjs VECTORS_DIR OUT.json [--ops MODULE.mjs]`);
  process.exit(2);
}

// --- reading the vectors ------------------------------------------------------------------------

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    usage(`${path}: ${e.message}`);
  }
}

// A Static parameter as JSON holds NumPy arrays as {ndarray, dtype, shape}: pass the nested list.
function staticValue(value) {
  if (Array.isArray(value)) return value.map(staticValue);
  if (value !== null && typeof value === "object") {
    if ("ndarray" in value && "dtype" in value && "shape" in value) return value.ndarray;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, staticValue(v)]));
  }
  return value;
}

function deepFreeze(x) {
  if (x !== null && typeof x === "object") {
    Object.values(x).forEach(deepFreeze);
    Object.freeze(x);
  }
  return x;
}

// --- what went wrong, in one line ---------------------------------------------------------------

// "(notes.mjs, line 42)": the innermost frame of the stack inside the ops module.
function where(e, moduleUrl) {
  const stack = typeof e?.stack === "string" ? e.stack : "";
  for (const line of stack.split("\n").slice(1)) {
    const at = line.indexOf(moduleUrl + ":");
    if (at >= 0) {
      const lineNo = line.slice(at + moduleUrl.length + 1).split(":")[0];
      return ` (${basename(fileURLToPath(moduleUrl))}, line ${lineNo})`;
    }
  }
  return "";
}

function fold(text) {
  const one = String(text).split("\n").map((s) => s.trim()).filter(Boolean).join(" / ");
  return one.length <= MAX_MESSAGE ? one : one.slice(0, MAX_MESSAGE - 3) + "...";
}

function raised(name, e, moduleUrl) {
  const kind = e instanceof Error ? e.name : typeof e;
  let message = e instanceof Error ? e.message : String(e);
  if (e instanceof TypeError && /read only|not extensible/.test(message)) {
    message += ": a write into an input or dout (they are frozen)";
  }
  return fold(`${name} raised ${kind}: ${message}${where(e, moduleUrl)}`);
}

// --- running one sample -------------------------------------------------------------------------

// The functions of a case in the module, or null when it does not implement the case.
function functionsOf(doc, ops) {
  if (doc.model) return null;
  const fns = doc.functions.map((name) => ops[name]);
  return fns.every((f) => typeof f === "function") ? fns : null;
}

// What the harness found wrong with a returned value (said as it is, not as "raised").
class Returned extends Error {}

// Gradients out of what a backward (or a loss op) returned, in the file's order.
function splitGrads(raw, doc, name) {
  const names = doc.gradients.map((g) => g.name);
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {   // {W: dW, ...}
    const inputs = names.map((g) => g.slice(1));
    const missing = inputs.filter((k) => !(k in raw));
    if (missing.length) throw new Returned(`${name} returned an object without ${missing.join(", ")}`);
    return inputs.map((k) => raw[k]);
  }
  if (names.length === 1) return [raw];
  if (!Array.isArray(raw) || raw.length !== names.length) {
    const got = Array.isArray(raw) ? `an array of ${raw.length}` : typeof raw;
    throw new Returned(`${name} returned ${got}; expected an array of ${names.length} ` +
                       `gradients (${names.join(", ")})`);
  }
  return raw;
}

// One sample (or kink sample): its entry of the results file, {out, dx, ..., problems}.
function runSample(doc, fns, sample, moduleUrl, withOutputs) {
  const entry = {};
  const problems = [];
  const inputs = deepFreeze(structuredClone(sample.inputs));
  const args = doc.args.map((a) => (a.kind === "array" ? inputs[a.name] : staticValue(a.value)));
  const douts = doc.outputs.map((o) => deepFreeze(structuredClone(sample.upstream[o.name])));
  const outNames = doc.outputs.map((o) => o.name);
  const gradNames = doc.gradients.map((g) => g.name);
  let step = doc.functions[0];
  try {
    let grads;
    if (doc.style === "pair") {
      const ret = fns[0](...args);
      if (!Array.isArray(ret) || ret.length !== outNames.length + 1) {
        const got = Array.isArray(ret) ? `an array of ${ret.length}` : typeof ret;
        throw new Returned(`${step} returned ${got}; expected ` +
                           `[${[...outNames, "cache"].join(", ")}]`);
      }
      const outs = ret.slice(0, -1);
      // a copy now: a backward that writes into the forward's output must not change it here
      if (withOutputs) outNames.forEach((o, k) => (entry[o] = structuredClone(outs[k])));
      step = doc.functions[1];
      grads = splitGrads(fns[1](...douts, ret[ret.length - 1]), doc, step);
    } else {
      const ret = fns[0](...args);
      if (!Array.isArray(ret) || ret.length !== 2) {
        const got = Array.isArray(ret) ? `an array of ${ret.length}` : typeof ret;
        throw new Returned(`${step} returned ${got}; expected [loss, grads]`);
      }
      if (withOutputs) entry[outNames[0]] = structuredClone(ret[0]);
      grads = splitGrads(ret[1], doc, step);
    }
    gradNames.forEach((g, k) => (entry[g] = grads[k]));
  } catch (e) {
    problems.push(e instanceof Returned ? fold(e.message) : raised(step, e, moduleUrl));
  }
  if (problems.length) entry.problems = problems;
  return entry;
}

// --- the results file ---------------------------------------------------------------------------

// JSON.stringify would write NaN and +-Infinity as null: write them as strings check-results reads.
function nonFinite(_key, value) {
  if (typeof value === "number" && !Number.isFinite(value)) {
    return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  }
  return value;
}

async function main(argv) {
  const positional = [];
  let opsPath = join(dirname(fileURLToPath(import.meta.url)), "notes.mjs");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--ops") {
      if (i + 1 >= argv.length) usage("--ops takes a module");
      opsPath = argv[++i];
    } else if (argv[i].startsWith("-")) {
      usage(`unknown option ${argv[i]}`);
    } else {
      positional.push(argv[i]);
    }
  }
  if (positional.length !== 2) usage("expected VECTORS_DIR and OUT.json");
  const [vectorsDir, outPath] = positional;
  const moduleUrl = pathToFileURL(resolve(opsPath)).href;
  let ops;
  try {
    ops = await import(moduleUrl);
  } catch (e) {
    usage(`--ops ${opsPath}: import failed: ${raised("import", e, moduleUrl)}`);
  }

  const index = readJson(join(vectorsDir, "index.json"));
  const results = {};
  const ran = [];
  for (const name of index.cases) {
    const doc = readJson(join(vectorsDir, `${name}.json`));
    const fns = functionsOf(doc, ops);
    if (fns === null) continue;                       // not implemented: left out
    ran.push(name);
    for (const sample of doc.samples) {
      results[sample.id] = runSample(doc, fns, sample, moduleUrl, true);
    }
    for (const kink of doc.kinks) {                   // at a kink only the gradients are judged
      results[kink.id] = runSample(doc, fns, kink, moduleUrl, false);
    }
  }
  const implementation = `${opsPath} (node ${process.version})`;
  writeFileSync(outPath, JSON.stringify({ format: "gradref-results", version: 1, implementation,
                                          results }, nonFinite));
  console.log(`wrote ${outPath}: ${Object.keys(results).length} samples of ${ran.length} case(s) ` +
              `computed by ${implementation}`);
}

await main(process.argv.slice(2));
