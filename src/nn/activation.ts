// Activations whose backward jit turns into one cheap multiply (engine/derivative.ts explains why).
// With the patched engine the plain jax-js functions are as cheap in the backward; these stay for
// relu′(0) = 0 and so that the models' numbers do not move.
//
// Each returns the same values as jax-js's own function; the gradient is ct·f'(x) with f'(x)
// computed in the forward pass. Written the plain way (`jnn.gelu(x)`), an activation between two
// frozen matmuls made jax-js 0.1.25 recompute its whole derivative inside the backward matmul's
// inner loop: 660 of 980 ms of the transformer-block LoRA step (bench/NOTES.md), 2.2× on a tanh MLP.
import { jnn, np, withDerivative, type Tensor } from "../engine/index.ts";

const GELU_C = Math.sqrt(2 / Math.PI);

/** max(x, 0); gradient ct·[x > 0]. Consumes `x`. */
export function relu(x: Tensor): Tensor {
  return withDerivative(x, (z) => [jnn.relu(z.ref), z.greater(0).astype(np.float32)]);
}

/** tanh(x); gradient ct·(1 − tanh²x). Consumes `x`. */
export function tanh(x: Tensor): Tensor {
  return withDerivative(x, (z) => {
    const t = np.tanh(z);
    return [t.ref, np.square(t).neg().add(1)];
  });
}

/**
 * tanh-approximate GELU (jnn.gelu's default, torch's `approximate="tanh"`):
 * ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³) — Hendrycks & Gimpel 2016, eq. in §2.
 * Derivative: ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh u. Consumes `x`.
 */
export function gelu(x: Tensor): Tensor {
  return withDerivative(x, (z) => {
    // np.tanh, not 1 − 2/(1 + e^{2u}) (one exp fewer, ≈10 % faster): jax-js 0.1.25 leaks one buffer
    // per eager grad call through np.reciprocal / np.divide (bench/NOTES.md).
    const t = np.tanh(z.ref.mul(z.ref.mul(z.ref).mul(0.044715).add(1)).mul(GELU_C)); // same shape as x
    const value = z.ref.mul(0.5).mul(t.ref.add(1));
    const du = z.ref.mul(z.ref).mul(3 * 0.044715).add(1).mul(GELU_C);
    const slope = t.ref.add(1).mul(0.5).add(z.mul(0.5).mul(np.square(t).neg().add(1)).mul(du));
    return [value, slope];
  });
}

/**
 * SiLU (swish) x·σ(x), the gate of Llama's SwiGLU MLP (HF `hidden_act: "silu"`), with
 * σ(x) = ½(1 + tanh(x/2)) (no division, see gelu). Derivative σ(x)·(1 + x·(1 − σ(x))). Consumes `x`.
 */
export function silu(x: Tensor): Tensor {
  return withDerivative(x, (z) => {
    const s = np.tanh(z.ref.mul(0.5)).add(1).mul(0.5); // σ(z), same shape as x
    const value = z.ref.mul(s.ref);
    const slope = s.ref.mul(z.mul(s.neg().add(1)).add(1));
    return [value, slope];
  });
}
