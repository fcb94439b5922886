// Small host-side linear algebra in float64, for the inits that need a factorization
// (orthogonal: QR of an r×r matrix; pissa: the top-r SVD of W*). Init runs once per module, so plain
// loops are fine and keep lora/init.ts engine-free and bit-for-bit deterministic from the key.
// Matrices are row-major Float64Array with explicit [rows, cols].

export interface Mat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function mat(rows: number, cols: number, data?: ArrayLike<number>): Mat {
  const d = new Float64Array(rows * cols);
  if (data !== undefined) {
    if (data.length !== rows * cols) throw new Error(`mat(): ${data.length} values for [${rows}, ${cols}]`);
    for (let i = 0; i < d.length; i++) d[i] = data[i] as number;
  }
  return { rows, cols, data: d };
}

export function at(m: Mat, i: number, j: number): number {
  return m.data[i * m.cols + j] as number;
}

export function transpose(m: Mat): Mat {
  const t = mat(m.cols, m.rows);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) t.data[j * m.rows + i] = at(m, i, j);
  return t;
}

/** a·b: [n,k]·[k,m] → [n,m] (i-k-j loop order for contiguous inner access). */
export function matmul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new Error(`matmul(): [${a.rows},${a.cols}]·[${b.rows},${b.cols}]`);
  const c = mat(a.rows, b.cols);
  const cd = c.data;
  const bd = b.data;
  for (let i = 0; i < a.rows; i++) {
    const ci = i * b.cols;
    for (let k = 0; k < a.cols; k++) {
      const aik = at(a, i, k);
      if (aik === 0) continue;
      const bk = k * b.cols;
      for (let j = 0; j < b.cols; j++) cd[ci + j] = (cd[ci + j] as number) + aik * (bd[bk + j] as number);
    }
  }
  return c;
}

/**
 * Thin QR by modified Gram–Schmidt with one re-orthogonalization pass ("twice is enough"):
 * a [n,k] (n ≥ k) → Q [n,k] with orthonormal columns, R [k,k] upper triangular with R_jj ≥ 0.
 * A column that is numerically dependent gets R_jj = 0 and a zero Q column.
 */
export function qr(a: Mat): { Q: Mat; R: Mat } {
  const n = a.rows;
  const k = a.cols;
  const Q = mat(n, k, a.data);
  const R = mat(k, k);
  const q = Q.data;
  for (let j = 0; j < k; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += (q[i * k + p] as number) * (q[i * k + j] as number);
        R.data[p * k + j] = (R.data[p * k + j] as number) + dot;
        for (let i = 0; i < n; i++) q[i * k + j] = (q[i * k + j] as number) - dot * (q[i * k + p] as number);
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += (q[i * k + j] as number) ** 2;
    norm = Math.sqrt(norm);
    R.data[j * k + j] = norm;
    for (let i = 0; i < n; i++) q[i * k + j] = norm > 1e-300 ? (q[i * k + j] as number) / norm : 0;
  }
  return { Q, R };
}

/**
 * One-sided Jacobi SVD (Hestenes) of a tall or square m [n,k], n ≥ k: m = U·diag(S)·Vᵀ with
 * U [n,k], S [k] sorted descending, V [k,k]. Accurate to working precision for all singular values.
 */
export function jacobiSvd(m: Mat): { U: Mat; S: Float64Array; V: Mat } {
  const n = m.rows;
  const k = m.cols;
  const u = Float64Array.from(m.data);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < n; i++) {
          const up = u[i * k + p] as number;
          const uq = u[i * k + q] as number;
          alpha += up * up;
          beta += uq * uq;
          gamma += up * uq;
        }
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < n; i++) {
          const up = u[i * k + p] as number;
          const uq = u[i * k + q] as number;
          u[i * k + p] = c * up - s * uq;
          u[i * k + q] = s * up + c * uq;
        }
        for (let i = 0; i < k; i++) {
          const vp = v[i * k + p] as number;
          const vq = v[i * k + q] as number;
          v[i * k + p] = c * vp - s * vq;
          v[i * k + q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: k }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (u[i * k + j] as number) ** 2;
    return Math.sqrt(s);
  });
  const order = norms.map((_, j) => j).sort((a, b) => (norms[b] as number) - (norms[a] as number));
  const U = mat(n, k);
  const V = mat(k, k);
  const S = new Float64Array(k);
  order.forEach((src, dst) => {
    const sv = norms[src] as number;
    S[dst] = sv;
    for (let i = 0; i < n; i++) U.data[i * k + dst] = sv > 1e-300 ? (u[i * k + src] as number) / sv : 0;
    for (let i = 0; i < k; i++) V.data[i * k + dst] = v[i * k + src] as number;
  });
  return { U, S, V };
}

/**
 * The top-r singular triplets of w [out,in]: U [out,r], S [r], Vh [r,in].
 * Subspace iteration on a block of k = min(r + 8, out, in) vectors (QR after every product), then
 * Rayleigh–Ritz: the exact SVD of the small k×in projection Qᵀ·w by one-sided Jacobi. When
 * k = min(out, in) the subspace is the whole range and the result is exact whatever the iteration
 * count; otherwise the top r converge at rate (σ_{k+1}/σ_r)^iters.
 * `start` [in,k] is the random starting block (the caller draws it from its key).
 */
export function topSvd(w: Mat, r: number, start: Mat, iters = 30): { U: Mat; S: Float64Array; Vh: Mat } {
  const k = start.cols;
  if (r > k || k > Math.min(w.rows, w.cols)) throw new Error(`topSvd(): need r ≤ k ≤ min(out, in), got r=${r} k=${k}`);
  const wt = transpose(w); // [in,out]
  let q = qr(matmul(w, start)).Q; // [out,k]
  const full = k === Math.min(w.rows, w.cols);
  for (let it = 0; it < (full ? 0 : iters); it++) {
    const z = qr(matmul(wt, q)).Q; // [in,k]
    q = qr(matmul(w, z)).Q; // [out,k]
  }
  if (full && w.rows <= w.cols) q = identityLike(w.rows);
  // Rayleigh–Ritz: Qᵀw [k,in]; its transpose [in,k] is tall, so Jacobi gives (Qᵀw)ᵀ = U'·S·Vᵀ,
  // i.e. Qᵀw = V·S·U'ᵀ and w ≈ (Q·V)·S·U'ᵀ.
  const proj = matmul(transpose(q), w); // [k,in]
  const { U: Up, S, V } = jacobiSvd(transpose(proj)); // Up [in,k], V [k,k]
  const Ufull = matmul(q, V); // [out,k]
  const U = mat(w.rows, r);
  const Vh = mat(r, w.cols);
  for (let i = 0; i < w.rows; i++) for (let j = 0; j < r; j++) U.data[i * r + j] = at(Ufull, i, j);
  for (let j = 0; j < r; j++) for (let i = 0; i < w.cols; i++) Vh.data[j * w.cols + i] = at(Up, i, j);
  return { U, S: S.slice(0, r), Vh };
}

function identityLike(n: number): Mat {
  const m = mat(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}
