// A contiguous copy of a strided view — a workaround for how jax-js 0.1.25 feeds views to a matmul.
//
// Why: inside `jit`, transpose and reshape are views: the consumer reads the producer's buffer
// through index arithmetic. When a dot's operand is the reshape of a transpose that no single
// stride can describe (the merged attention heads, [B, H, L, dh] → [B, L, H·dh]), the generated
// kernel computes that index per multiply-add and loses its SIMD tiling. Measured in the sentence
// encoder's o_proj ([32, 32, 512]·[512, 512]ᵀ + residual) by bench/view-matmul.ts: 845 ms of
// kernels as a view, 33 ms after one elementwise copy (docs/engine.md).
//
// The fusion pass (jax-js `splitGraphDataflow`) walks a dot operand back through view primitives to
// the first real op and materialises that op's output. So the copy must be an op jit keeps: −(−x)
// is exact in IEEE arithmetic, is not folded away (x·1 and x + 0 are), and its derivative is the
// same copy of the cotangent.
import { np, type Tensor } from "./jax.ts";

/** `x` itself, materialised as a contiguous buffer when traced by jit. Consumes `x`. */
export function contiguous(x: Tensor): Tensor {
  return np.negative(np.negative(x));
}
