// Group A in JavaScript: the worked examples of CS231n "Backpropagation, Intuitions"
// (optimization-2), as handwritten/notes.py writes them, for examples/node/harness.mjs.
//
// Every op is a CS231n-style pair, in JavaScript clothes:
//
//     const [out, cache] = <op>_forward(...inputs)
//     const grads        = <op>_backward(dout, cache)  // [dx, dy, ...]; a single gradient alone
//
// Arrays are nested JS arrays in C order (a (2, 3) array is [[a, b, c], [d, e, f]]), a scalar
// is a plain number: the vector files' layout, so the harness passes them through untouched.
// The scalar circuits are written with plain arithmetic, as the notes compute them; the gates
// on arrays go elementwise through `each`. Forward lines carry the notes' step numbers (k); the
// backward walks the same steps in reverse, each line tagged with the step it differentiates,
// and uses += wherever a value forks. Plain JavaScript: no dependency, float64 throughout.

// f applied entry by entry to arrays of one shape (bare numbers: f itself).
//   each((a, b) => a * b, x, y) is NumPy's x * y.
function each(f, ...xs) {
  return Array.isArray(xs[0]) ? xs[0].map((_, i) => each(f, ...xs.map((x) => x[i]))) : f(...xs);
}

// The matrix product A B of nested arrays (n, k) and (k, m), and a matrix's transpose.
function dot(A, B) {
  return A.map((row) => B[0].map((_, j) => row.reduce((s, a, k) => s + a * B[k][j], 0)));
}

function transpose(A) {
  return A[0].map((_, j) => A.map((row) => row[j]));
}

// --- A1: f = x * y. The multiply gate swaps its inputs: df/dx = y, df/dy = x. -----------------

export function multiply_forward(x, y) {
  const f = x * y;                                                // (1)
  return [f, [x, y]];
}

export function multiply_backward(dout, cache) {
  const [x, y] = cache;
  const dx = y * dout;                                            // (1) df/dx = y
  const dy = x * dout;                                            // (1) df/dy = x
  return [dx, dy];
}

// --- A2: f = x + y. The add gate distributes dout unchanged to both inputs. --------------------

export function add_forward(x, y) {
  const f = each((a, b) => a + b, x, y);                          // (1)
  return [f, null];
}

export function add_backward(dout, cache) {
  const dx = each((d) => 1.0 * d, dout);                          // (1) df/dx = 1
  const dy = each((d) => 1.0 * d, dout);                          // (1) df/dy = 1
  return [dx, dy];
}

// --- A3: f = max(x, y). The max gate routes dout to the larger input. -------------------------
// Kink convention: at a tie x == y the gradient goes to x, (1, 0), as np.argmax routes a tie.
// Any split (a, 1 - a) is a subgradient; both inputs getting dout, (1, 1), is not.

export function max_gate_forward(x, y) {
  const f = Math.max(x, y);                                       // (1)
  return [f, [x, y]];
}

export function max_gate_backward(dout, cache) {
  const [x, y] = cache;
  const dx = (x >= y ? 1 : 0) * dout;                             // (1) df/dx = 1(x >= y)
  const dy = (y > x ? 1 : 0) * dout;                              // (1) df/dy = 1(y > x): a tie
                                                                  //     goes to x, a subgradient
  return [dx, dy];
}

// --- A4: f = (x + y) * z, the chain rule on the notes' first circuit. --------------------------

export function chain_rule_forward(x, y, z) {
  const q = x + y;                                                // (1) q becomes 3
  const f = q * z;                                                // (2) f becomes -12
  return [f, [q, z]];
}

export function chain_rule_backward(dout, cache) {
  const [q, z] = cache;
  // backprop through f = q * z
  const dz = q * dout;                                            // (2) df/dz = q
  const dq = z * dout;                                            // (2) df/dq = z
  // backprop through q = x + y: the multiplication here is the chain rule
  const dx = 1.0 * dq;                                            // (1) dq/dx = 1
  const dy = 1.0 * dq;                                            // (1) dq/dy = 1
  return [dx, dy, dz];
}

// --- A5: the unary gates of the sigmoid circuit. -----------------------------------------------
// The constants c and a are parameters of the gate, not inputs: they get no gradient. A single
// gradient is returned alone, not in a list.

export function reciprocal_forward(x) {
  const f = each((v) => 1.0 / v, x);                              // (1)
  return [f, x];
}

export function reciprocal_backward(dout, cache) {
  const x = cache;
  const dx = each((v, d) => (-1.0 / v ** 2) * d, x, dout);        // (1) d(1/x)/dx = -1/x^2
  return dx;
}

export function add_const_forward(x, c) {
  const f = each((v) => c + v, x);                                // (1)
  return [f, null];
}

export function add_const_backward(dout, cache) {
  const dx = each((d) => 1.0 * d, dout);                          // (1) d(c + x)/dx = 1
  return dx;
}

export function exp_forward(x) {
  const f = each(Math.exp, x);                                    // (1)
  return [f, f];
}

export function exp_backward(dout, cache) {
  const f = cache;
  const dx = each((e, d) => e * d, f, dout);                      // (1) d(e^x)/dx = e^x
  return dx;
}

export function scale_forward(x, a) {
  const f = each((v) => a * v, x);                                // (1)
  return [f, a];
}

export function scale_backward(dout, cache) {
  const a = cache;
  const dx = each((d) => a * d, dout);                            // (1) d(ax)/dx = a
  return dx;
}

// --- A7: the sigmoid gate, sigma(x) = 1 / (1 + e^-x). -----------------------------------------
// sigma'(x) = sigma (1 - sigma), taken from the output: the unsimplified e^x / (1 + e^x)^2
// gives NaN at x = -1000, the simplified form gives 0.

function stableSigmoid(x) {
  // 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: e^(-|x|) never overflows.
  const z = Math.exp(-Math.abs(x));
  return x >= 0 ? 1.0 / (1.0 + z) : z / (1.0 + z);
}

export function sigmoid_forward(x) {
  const s = each(stableSigmoid, x);                               // (1)
  return [s, s];
}

export function sigmoid_backward(dout, cache) {
  const s = cache;
  const dx = each((v, d) => ((1 - v) * v) * d, s, dout);          // (1) sigma' = (1 - sigma) sigma
  return dx;
}

// --- A6: a 2-d neuron with a sigmoid, f = sigma(w0 x0 + w1 x1 + w2). ----------------------------

export function sigmoid_neuron_forward(w, x) {
  const dot = w[0] * x[0] + w[1] * x[1] + w[2];                   // (1)
  const f = 1.0 / (1 + Math.exp(-dot));                           // (2) sigmoid function
  return [f, [w, x, f]];
}

export function sigmoid_neuron_backward(dout, cache) {
  const [w, x, f] = cache;
  const ddot = (1 - f) * f * dout;                                // (2) sigma' = (1 - f) f
  const dx = [w[0] * ddot, w[1] * ddot];                          // (1) backprop into x
  const dw = [x[0] * ddot, x[1] * ddot, 1.0 * ddot];              // (1) backprop into w
  return [dw, dx];
}

// --- A8: staged computation, f = (x + sigma(y)) / (sigma(x) + (x + y)^2). ----------------------
// x and y each feed several stages: their gradients add at the forks (+=).

export function staged_forward(x, y) {
  const sigy = 1.0 / (1 + Math.exp(-y));                          // (1) sigmoid in numerator
  const num = x + sigy;                                           // (2) numerator
  const sigx = 1.0 / (1 + Math.exp(-x));                          // (3) sigmoid in denominator
  const xpy = x + y;                                              // (4)
  const xpysqr = xpy ** 2;                                        // (5)
  const den = sigx + xpysqr;                                      // (6) denominator
  const invden = 1.0 / den;                                       // (7)
  const f = num * invden;                                         // (8) done!
  return [f, [sigy, num, sigx, xpy, den, invden]];
}

export function staged_backward(dout, cache) {
  const [sigy, num, sigx, xpy, den, invden] = cache;
  // backprop f = num * invden
  const dnum = invden * dout;                                     // (8)
  const dinvden = num * dout;                                     // (8)
  // backprop invden = 1.0 / den
  const dden = (-1.0 / den ** 2) * dinvden;                       // (7)
  // backprop den = sigx + xpysqr
  const dsigx = 1 * dden;                                         // (6)
  const dxpysqr = 1 * dden;                                       // (6)
  // backprop xpysqr = xpy ** 2
  const dxpy = (2 * xpy) * dxpysqr;                               // (5)
  // backprop xpy = x + y
  let dx = 1 * dxpy;                                              // (4)
  let dy = 1 * dxpy;                                              // (4)
  // backprop sigx = 1.0 / (1 + exp(-x))
  dx += ((1 - sigx) * sigx) * dsigx;                              // (3) fork on x: +=
  // backprop num = x + sigy
  dx += 1 * dnum;                                                 // (2) fork on x: +=
  const dsigy = 1 * dnum;                                         // (2)
  // backprop sigy = 1.0 / (1 + exp(-y))
  dy += ((1 - sigy) * sigy) * dsigy;                              // (1) fork on y: +=
  return [dx, dy];
}

// --- A9: gradient flow patterns, f = 2 (x y + max(z, w)). ---------------------------------------
// add distributes, max routes, multiply swaps. A max tie goes to z, as in the max gate.

export function patterns_circuit_forward(x, y, z, w) {
  const xy = x * y;                                               // (1) multiply gate
  const m = Math.max(z, w);                                       // (2) max gate
  const s = xy + m;                                               // (3) add gate
  const f = 2.0 * s;                                              // (4) scale by 2
  return [f, [x, y, z, w]];
}

export function patterns_circuit_backward(dout, cache) {
  const [x, y, z, w] = cache;
  const ds = 2.0 * dout;                                          // (4)
  const dxy = 1.0 * ds;                                           // (3) add distributes
  const dm = 1.0 * ds;                                            // (3)
  const dz = (z >= w ? 1 : 0) * dm;                               // (2) max routes
  const dw = (w > z ? 1 : 0) * dm;                                // (2) a tie goes to z
  const dx = y * dxy;                                             // (1) multiply swaps
  const dy = x * dxy;                                             // (1)
  return [dx, dy, dz, dw];
}

// --- A10: vectorized matrix multiply, D = W X. ---------------------------------------------------
// Dimension analysis: dW must have W's shape (5, 10), so it is dD (5, 3) times X^T (3, 10).

export function matmul_forward(W, X) {
  const D = dot(W, X);                                            // (1)
  return [D, [W, X]];
}

export function matmul_backward(dout, cache) {
  const [W, X] = cache;
  const dD = dout;
  const dW = dot(dD, transpose(X));                               // (1) transpose(X) is X^T
  const dX = dot(transpose(W), dD);                               // (1)
  return [dW, dX];
}
