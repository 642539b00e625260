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
// What the harness observes goes into the file as gradref's own `gradref results` writes it:
//  - an exception is a line in the sample's "problems" ("multiply_backward raised TypeError: ...
//    (notes.mjs, line 42)"), which fails that sample's test_well_behaved; the outputs it did get
//    are still written. Inputs and upstream gradients are frozen, so a backward that writes into
//    them raises and is reported the same way;
//  - a backward that writes into the cache or into the forward's output, or that answers
//    differently when called again with the same cache and an equal copy of dout (beyond the
//    vector file's rounding bound): a line in "problems" too;
//  - the module runs in a worker thread, never in the harness's own: an op that ends its thread
//    (process.exit, an uncaught asynchronous throw) is "status": "crashed" on the sample it was
//    running, one that does not return within --timeout seconds (default 60, as gradref's) is
//    "status": "timeout"; the case stops there and the harness goes on with the next case in a
//    fresh thread. A module that fails to import (or ends its thread while importing) is a usage
//    error, exit status 2, one line. Only a crash of node itself (a native addon) is not caught:
//    it ends the harness with no results file written.

// Floats: JSON.stringify writes each number as the shortest decimal that reads back as the same
// float64 (like Python's repr), so values keep every bit. It would write NaN and +-Infinity as
// null, which check-results refuses as "not a number"; they are written as the strings "nan",
// "inf" and "-inf", which it reads (and fails as non-finite). -0 is written as 0.

import { readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const MAX_MESSAGE = 300;     // characters of a problem kept, as gradref's fold()
const DEFAULT_TIMEOUT = 60;  // seconds per call of the module, as gradref's --timeout

function usage(why) {
  console.error(`${why}\nusage: node harness.mjs VECTORS_DIR OUT.json [--ops MODULE.mjs] ` +
                "[--timeout SECONDS]");
  process.exit(2);
}

// --- reading the vectors ------------------------------------------------------------------------

// A vector file, or an Error saying which file and why not (a usage error, wherever it is read).
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: ${e.message}`);
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

// "TypeError: message (notes.mjs, line 42)": what was thrown, and where in the module.
function described(e, moduleUrl) {
  const kind = e instanceof Error ? e.name : typeof e;
  let message = e instanceof Error ? e.message : String(e);
  if (e instanceof TypeError && /read only|not extensible/.test(message)) {
    message += ": a write into an input or dout (they are frozen)";
  }
  return `${kind}: ${message}${where(e, moduleUrl)}`;
}

function raised(name, e, moduleUrl) {
  return fold(`${name} raised ${described(e, moduleUrl)}`);
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

// A snapshot of a value the module returned, to see later whether a call wrote into it (null when
// it cannot be written as JSON: a cycle, say; then no write into it is seen).
function snapshot(x) {
  try {
    return JSON.stringify(x, nonFinite);
  } catch {
    return null;
  }
}

const flat = (x) => (Array.isArray(x) || ArrayBuffer.isView(x) ? Array.from(x).flatMap(flat) : [x]);

// Where a backward's second answer (same cache, an equal dout) is farther from its first than the
// vector file's normwise bound: a message, or "" (gradref's worker asks the same of Python).
function secondAnswer(bname, name, first, second, rtol) {
  const a = flat(first), b = flat(second);
  if (!a.every(Number.isFinite) || !b.every((v) => typeof v === "number")) return "";
  if (a.length !== b.length) {
    return `${bname} returned a different ${name} when called again with the same cache and an ` +
           `equal copy of dout (${b.length} entries, first ${a.length}): it keeps state between calls`;
  }
  let worst = 0, at = 0, scale = 0;
  a.forEach((v, j) => {
    scale = Math.max(scale, Math.abs(v));
    const d = Math.abs(v - b[j]);
    if (!(d <= worst)) [worst, at] = [d, j];
  });
  if (worst <= rtol * scale) return "";
  return `${bname} returned a different ${name} when called again with the same cache and an ` +
         `equal copy of dout (at entry ${at}: first ${a[at]}, then ${b[at]}; beyond rounding): ` +
         "nondeterministic, or it keeps state between calls";
}

// One sample (or kink sample): its entry of the results file, {out, dx, ..., problems}.
// `calling(k)` says that call k starts: 1 the forward (or the loss), 2 the backward, 3 its second.
function runSample(doc, fns, sample, moduleUrl, withOutputs, calling) {
  const entry = {};
  const problems = [];
  const inputs = deepFreeze(structuredClone(sample.inputs));
  const args = doc.args.map((a) => (a.kind === "array" ? inputs[a.name] : staticValue(a.value)));
  const fresh = () => doc.outputs.map((o) => deepFreeze(structuredClone(sample.upstream[o.name])));
  const outNames = doc.outputs.map((o) => o.name);
  const gradNames = doc.gradients.map((g) => g.name);
  let step = doc.functions[0];
  try {
    let grads;
    calling(1);
    if (doc.style === "pair") {
      const ret = fns[0](...args);
      if (!Array.isArray(ret) || ret.length !== outNames.length + 1) {
        const got = Array.isArray(ret) ? `an array of ${ret.length}` : typeof ret;
        throw new Returned(`${step} returned ${got}; expected ` +
                           `[${[...outNames, "cache"].join(", ")}]`);
      }
      const outs = ret.slice(0, -1), cache = ret[ret.length - 1];
      // a copy now: a backward that writes into the forward's output must not change it here
      if (withOutputs) outNames.forEach((o, k) => (entry[o] = structuredClone(outs[k])));
      const [outsBefore, cacheBefore] = [snapshot(outs), snapshot(cache)];
      step = doc.functions[1];
      calling(2);
      grads = structuredClone(splitGrads(fns[1](...fresh(), cache), doc, step));
      gradNames.forEach((g, k) => (entry[g] = grads[k]));
      if (cacheBefore !== null && snapshot(cache) !== cacheBefore) {
        problems.push(`${step} wrote into the cache its forward returned`);
      }
      if (outsBefore !== null && snapshot(outs) !== outsBefore) {
        problems.push(`${step} wrote into the forward's output(s) ${outNames.join(", ")}`);
      }
      calling(3);
      let again;
      try {
        again = splitGrads(fns[1](...fresh(), cache), doc, step);
      } catch (e) {
        problems.push(e instanceof Returned ? fold(e.message) : raised(step, e, moduleUrl)
          .replace(" raised ", " raised on its second call (same cache, an equal dout) "));
      }
      const rtol = doc.tolerances.forward_and_gradient_rtol;
      if (again) gradNames.forEach((g, k) => {
        const said = secondAnswer(step, g, grads[k], again[k], rtol);
        if (said) problems.push(fold(said));
      });
    } else {
      const ret = fns[0](...args);
      if (!Array.isArray(ret) || ret.length !== 2) {
        const got = Array.isArray(ret) ? `an array of ${ret.length}` : typeof ret;
        throw new Returned(`${step} returned ${got}; expected [loss, grads]`);
      }
      if (withOutputs) entry[outNames[0]] = structuredClone(ret[0]);
      grads = splitGrads(ret[1], doc, step);
      gradNames.forEach((g, k) => (entry[g] = grads[k]));
    }
  } catch (e) {
    problems.push(e instanceof Returned ? fold(e.message) : raised(step, e, moduleUrl));
  }
  if (problems.length) entry.problems = problems;
  return entry;
}

// --- the worker thread: imports the module and runs cases --------------------------------------
// It tells the harness's thread where it is in shared memory (written before each call, so it is
// exact whatever the thread does next) and waits for each message to be taken before going on, so
// the harness has everything up to the call that crashed or hung, and blames that call.

const ACK = 0, CASE = 1, SAMPLE = 2, CALL = 3;   // the shared Int32Array's slots; CALL 0: between

function phaseNames(doc) {
  const [f, b] = doc.functions;
  return doc.style === "pair" ? ["", f, b, `${b} (its second call)`] : ["", f];
}

async function runCases({ moduleUrl, vectorsDir, names, shared }) {
  const where = new Int32Array(shared);
  const send = (m) => {                 // posted, then wait until the harness has taken it
    const seen = Atomics.load(where, ACK);
    parentPort.postMessage(m);
    Atomics.wait(where, ACK, seen);
  };
  let ops;
  try {
    ops = await import(moduleUrl);
  } catch (e) {
    send({ kind: "usage", message: `import failed: ${raised("import", e, moduleUrl)}` });
    return;
  }
  send({ kind: "imported" });
  for (const [c, name] of names.entries()) {
    let doc;
    try {
      doc = readJson(join(vectorsDir, `${name}.json`));
    } catch (e) {
      send({ kind: "usage", message: e.message });
      return;
    }
    const fns = functionsOf(doc, ops);
    const all = [...doc.samples.map((x) => [x, true]), ...doc.kinks.map((x) => [x, false])];
    Atomics.store(where, CASE, c);
    Atomics.store(where, SAMPLE, -1);
    send({ kind: "case", name, implemented: fns !== null, phases: phaseNames(doc),
           ids: fns === null ? [] : all.map(([x]) => x.id) });
    if (fns === null) continue;                       // not implemented: left out
    for (const [k, [sample, withOutputs]] of all.entries()) {   // at a kink only the gradients
      Atomics.store(where, SAMPLE, k);
      const calling = (phase) => {
        Atomics.store(where, CALL, phase);
        parentPort.postMessage({ kind: "call" });     // restarts the timeout
      };
      const entry = runSample(doc, fns, sample, moduleUrl, withOutputs, calling);
      Atomics.store(where, CALL, 0);
      send({ kind: "sample", id: sample.id, entry });
      await new Promise(setImmediate);  // what the op left for later runs now, blamed on it
    }
  }
  send({ kind: "done" });
}

// --- the harness's own thread: runs the worker, stands in for it when it dies or hangs -----------

// Runs names[from..] in one worker thread until it is done, dies or hangs; resolves to the index
// of the case to go on with (names.length when all are done).
function runWorker(names, from, opts, results, ran) {
  return new Promise((resolvePromise) => {
    const shared = new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT);
    const where = new Int32Array(shared);
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: { moduleUrl: opts.moduleUrl, vectorsDir: opts.vectorsDir,
                    names: names.slice(from), shared } });
    let imported = false, current = null, timer = null, over = false;
    const finish = (next) => {      // the worker is never kept: whatever it does, it is over
      over = true;
      clearTimeout(timer);
      worker.terminate();
      resolvePromise(next);
    };
    // the worker's thread ended or hung: its case stops at the sample it was on, with `status`
    // (gradref's CRASHED or TIMEOUT) and the call it was in
    const stop = (status, why) => {
      if (over) return;
      if (!imported) {
        console.error(`--ops ${opts.opsPath}: while importing it, ${why}`);
        process.exit(2);
      }
      const c = Atomics.load(where, CASE), k = Atomics.load(where, SAMPLE);
      const call = Atomics.load(where, CALL);
      const name = names[from + c];
      if (current?.name !== name || k < 0) {
        console.error(`${name}: ${status} before its first sample: ${why}`);
      } else if (call > 0) {
        const id = current.ids[k];
        results[id] = { status, problems: [fold(`${current.phases[call]} on ${id}: ${why}`)] };
      } else if (k + 1 < current.ids.length) {
        const id = current.ids[k + 1];
        results[id] = { status, problems: [fold(`after the calls on ${current.ids[k]} returned: ` +
                                                why)] };
      } else {
        console.error(`${name}: ${status} after the calls on its last sample returned: ${why}`);
      }
      finish(from + c + 1);
    };
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => stop("timeout", `did not return within ${opts.timeout} s`),
                         opts.timeout * 1000);
    };
    rearm();
    const take = () => {
      Atomics.add(where, ACK, 1);
      Atomics.notify(where, ACK);
    };
    worker.on("message", (m) => {
      if (over) return;
      rearm();
      if (m.kind === "usage") {
        console.error(m.message.startsWith("import failed")
          ? `--ops ${opts.opsPath}: ${m.message}` : m.message);
        process.exit(2);
      } else if (m.kind === "imported") {
        imported = true;
      } else if (m.kind === "case") {
        current = m;
        if (m.implemented) ran.push(m.name);
      } else if (m.kind === "sample") {
        results[m.id] = m.entry;
      } else if (m.kind === "done") {
        finish(names.length);
      }
      if (m.kind !== "call") take();
    });
    worker.on("error", (e) => stop("crashed", `uncaught ${described(e, opts.moduleUrl)}`));
    worker.on("exit", (code) => stop("crashed", `its thread ended (exit code ${code}: ` +
                                               "process.exit, or an uncaught error)"));
  });
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
  let timeout = DEFAULT_TIMEOUT;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--ops" || argv[i] === "--timeout") {
      if (i + 1 >= argv.length) usage(`${argv[i]} takes a value`);
      if (argv[i] === "--ops") opsPath = argv[++i];
      else if (!((timeout = Number(argv[++i])) > 0)) usage(`--timeout ${argv[i]}: not a positive number of seconds`);
    } else if (argv[i].startsWith("-")) {
      usage(`unknown option ${argv[i]}`);
    } else {
      positional.push(argv[i]);
    }
  }
  if (positional.length !== 2) usage("expected VECTORS_DIR and OUT.json");
  const [vectorsDir, outPath] = positional;
  const opts = { opsPath, moduleUrl: pathToFileURL(resolve(opsPath)).href, vectorsDir, timeout };
  let names;
  try {
    names = readJson(join(vectorsDir, "index.json")).cases;
  } catch (e) {
    usage(e.message);
  }
  const results = {};
  const ran = [];
  for (let from = 0; from < names.length;) {
    from = await runWorker(names, from, opts, results, ran);
  }
  const implementation = `${opsPath} (node ${process.version})`;
  writeFileSync(outPath, JSON.stringify({ format: "gradref-results", version: 1, implementation,
                                          results }, nonFinite));
  console.log(`wrote ${outPath}: ${Object.keys(results).length} samples of ${ran.length} case(s) ` +
              `computed by ${implementation}`);
  process.exit(0);                // nothing the module left behind keeps the harness running
}

if (isMainThread) await main(process.argv.slice(2));
else await runCases(workerData);
