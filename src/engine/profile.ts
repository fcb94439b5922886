// Per-kernel timing of engine work, from jax-js's own profiler.
//
// jax-js 0.1.25 times every kernel and routine its wasm backend dispatches while
// `profiler.startTrace()` is on, and records each as a `performance.measure` entry whose
// `detail.devtools.properties` describe the kernel (`traceSourceInfo` in its backend chunk:
// fused expression, output size, reduction op:size; routines give their name and shapes).
// With one thread the measured span is the kernel's run time; with the worker pool it is only the
// dispatch (the work finishes later on a worker), so profile with LORASCOPE_THREADS unset.
import { performance } from "node:perf_hooks";
import { profiler } from "@jax-js/jax";

/** One dispatched kernel or routine. */
export interface KernelTiming {
  /** jax-js's label: `Kernel[size]` for generated kernels, the routine's name otherwise. */
  label: string;
  ms: number;
  /** "sum:256" style reduction (op and length) for reducing kernels, "" for elementwise ones. */
  reduction: string;
  /** Output element count of a kernel; shapes of a routine. */
  size: string;
  /** The fused expression (kernels) — long; useful to tell which op a kernel came from. */
  exp: string;
}

/**
 * Run `work` with jax-js's kernel profiler on and return its result and one timing per dispatched
 * kernel, in dispatch order. `work` must force its results (await a read) so every kernel runs
 * inside the window. Clears the process's `performance` measures before and after.
 */
export async function profileKernels<T>(work: () => Promise<T>): Promise<{ result: T; kernels: KernelTiming[] }> {
  performance.clearMeasures();
  profiler.startTrace();
  let result: T;
  try {
    result = await work();
  } finally {
    profiler.stopTrace();
  }
  const kernels = performance.getEntriesByType("measure").map((e): KernelTiming => {
    // Node's PerformanceMeasure carries `detail`; the typings of getEntriesByType do not say so.
    const detail = (e as { detail?: unknown }).detail as
      { devtools?: { properties?: [string, string][] } } | null | undefined;
    const p = Object.fromEntries(detail?.devtools?.properties ?? []);
    return {
      label: e.name, ms: e.duration, reduction: p["reduction"] ?? "",
      size: p["size"] ?? `${p["inputShapes"] ?? ""} → ${p["outputShapes"] ?? ""}`, exp: p["exp"] ?? "",
    };
  });
  performance.clearMeasures();
  return { result, kernels };
}
