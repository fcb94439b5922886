// Elementwise functions with a derivative computed once in the forward pass — a workaround for how
// the published jax-js 0.1.25 fuses the backward of a matmul. lorascope's patched engine
// (patches/…001+dot-backward) no longer does, so this is optional; it still gives an activation a
// chosen derivative (relu′(0) = 0) and keeps the models' gradients bit for bit as before.
//
// Why: the cotangent of `x` in `dot(x, W)` is `dot(ct, W)` built by `transposeDot` (jax-js
// src/frontend/jvp/transpose), which first *broadcasts* `ct` to the full [N, out, in] product
// shape. jit's fusion pass (`splitGraphDataflow`) only materialises a dot operand when the operand
// itself has a broadcast (size-1) axis, so after that broadcast it fuses the whole elementwise
// chain that produced `ct` — e.g. GELU's derivative, a dozen mul/add and one exp — into the
// reduction loop, where it is recomputed once per output column and the SIMD matmul path is lost.
// In bench/block.ts that one kernel (∂loss/∂h₂ = (ct_up ⊙ gelu'(pre))·W1, [1024,1024]·[1024,256])
// took ≈ 660 ms of a ≈ 980 ms step (bench/NOTES.md).
//
// The fix writes f(x) as  f(sg(x)) + sg(f'(x))·(x − sg(x))  (sg = stop-gradient). Its value is f(x)
// exactly (x − sg(x) is 0) and its derivative is the tensor s = f'(x), which the forward
// materialises. The backward then is the single product ct·s, which jit fuses into the epilogue of
// the reduction that produced ct, so the matmul that consumes it reads a plain buffer.
import { lax, type Tensor } from "./jax.ts";

/**
 * `f(x)` whose gradient is `ct · f'(x)`, with `f'(x)` evaluated in the forward pass. Consumes `x`.
 * `valueAndSlope(z)` consumes `z` and returns `[f(z), f'(z)]`, both elementwise; computing them
 * together lets them share subexpressions (jit then materialises a shared one once, e.g. tanh).
 */
export function withDerivative(x: Tensor, valueAndSlope: (z: Tensor) => [Tensor, Tensor]): Tensor {
  const xs = lax.stopGradient(x.ref);
  const [value, slope] = valueAndSlope(xs.ref); // f(x), f'(x): same shape as x
  return lax.stopGradient(value).add(lax.stopGradient(slope).mul(x.sub(xs)));
}
