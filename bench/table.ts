// The bench's result rows and the table printed from them.

/** One side's figures for one workload: median ms per iteration, every rep, iterations per rep. */
export interface SideResult {
  ms: number;
  reps_ms: number[];
  iters: number;
}

/** One workload's row; the JSON keeps it whole. Ratios are time / PyTorch time. */
export interface Row {
  id: string;
  title: string;
  /** The active backend's column (bnlab on --backend, or the default choice). */
  bnlab_ms: number;
  pytorch_ms: number | null;
  ratio: number | null;
  target: number | null;
  bnlab_reps_ms: number[];
  pytorch_reps_ms: number[] | null;
  /** bnlab on the wasm backend (the extra column): null when not run, with wasm_error saying why when it failed. */
  wasm_ms: number | null;
  wasm_ratio: number | null;
  wasm_reps_ms: number[] | null;
  wasm_error?: string;
  /** TF.js 4.22 on its wasm backend, one thread (W1, W2, GEMM): null when not run. */
  tfjs_ms: number | null;
  tfjs_ratio: number | null;
  tfjs_reps_ms: number[] | null;
  tfjs_api?: string;
  tfjs_error?: string;
  pytorch_error?: string;
  iters: { bnlab: number; pytorch: number | null; wasm: number | null; tfjs: number | null };
  bnlab_gflops?: number;
  pytorch_gflops?: number | null;
  wasm_gflops?: number | null;
  tfjs_gflops?: number | null;
  ts_gflops?: number;
  bnlab_gbs?: number;
  pytorch_gbs?: number | null;
  wasm_gbs?: number | null;
  memcpy_gbs?: number;
  error?: string;
}

/** Which optional columns the table has, and the cell text when a column's side could not run at all. */
export interface Columns {
  main: string;
  /** The wasm column: absent (--no-wasm, or wasm is the main column), or present with 'n/a' when it cannot load. */
  wasm: null | { na: boolean };
  tfjs: null | { na: boolean; ids: string[] };
}

export const f = (x: number | null | undefined, d = 2): string => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

/** max / min of the repetitions (1 for fewer than two). */
export function spread(xs: number[] | null): number {
  return !xs || xs.length < 2 ? 1 : Math.max(...xs) / Math.min(...xs);
}

/** The rate cell: GFLOP/s for GEMM, GB/s for W4 (against memcpy), each side that ran. */
function rate(r: Row, c: Columns, memcpyGbs: number): string {
  const extra: string[] = [];
  if (r.bnlab_gflops !== undefined) {
    if (r.ts_gflops) extra.push(`ts ${f(r.ts_gflops, 1)}`);
    if (c.wasm && r.wasm_gflops) extra.push(`wasm ${f(r.wasm_gflops, 1)}`);
    if (c.tfjs && r.tfjs_gflops) extra.push(`TF.js ${f(r.tfjs_gflops, 1)}`);
    return `${f(r.bnlab_gflops, 1)} vs ${f(r.pytorch_gflops, 1)} GFLOP/s` + (extra.length ? ` (${extra.join(', ')})` : '');
  }
  if (r.bnlab_gbs !== undefined) {
    if (c.wasm && r.wasm_gbs) extra.push(`wasm ${f(r.wasm_gbs, 1)}`);
    extra.push(`memcpy ${f(memcpyGbs, 1)}`);
    return `${f(r.bnlab_gbs, 1)} vs ${f(r.pytorch_gbs, 1)} GB/s (${extra.join(', ')})`;
  }
  return '';
}

/** Prints the timing table: the main column, PyTorch, target, then wasm and TF.js when present, then rates. */
export function printTable(rows: Row[], c: Columns, memcpyGbs: number): void {
  const head = ['id', 'workload', `bnlab/${c.main} ms`, 'PyTorch ms', 'ratio', 'target', ''];
  if (c.wasm) head.push('bnlab/wasm ms', 'ratio');
  if (c.tfjs) head.push('TF.js ms', 'ratio');
  head.push('rate');
  const numeric = new Set(head.map((h, i) => (i >= 2 && i < head.length - 1 && h !== '' ? i : -1)));
  const body = rows.map((r) => {
    if (r.error) return [r.id, r.title, 'error', ...Array<string>(head.length - 4).fill(''), r.error];
    let ok = r.ratio === null || r.target === null ? '' : r.ratio <= r.target ? 'ok' : 'MISS';
    // Reps that differ by more than 1.5x mean the machine was busy (or, at 2 threads, OpenMP spin-waits
    // lost their core): the median is then a weak figure, say so instead of printing it as if clean.
    if ([r.bnlab_reps_ms, r.pytorch_reps_ms, r.wasm_reps_ms, r.tfjs_reps_ms].some((x) => spread(x) > 1.5)) ok += ok ? ' noisy' : 'noisy';
    const cells = [r.id, r.title, f(r.bnlab_ms, 3), f(r.pytorch_ms, 3), f(r.ratio), f(r.target), ok];
    if (c.wasm) cells.push(...(c.wasm.na ? ['n/a', ''] : r.wasm_error ? ['error', ''] : [f(r.wasm_ms, 3), f(r.wasm_ratio)]));
    if (c.tfjs) {
      const runs = c.tfjs.ids.includes(r.id);
      cells.push(...(!runs ? ['-', ''] : c.tfjs.na ? ['n/a', ''] : r.tfjs_error ? ['error', ''] : [f(r.tfjs_ms, 3), f(r.tfjs_ratio)]));
    }
    cells.push(rate(r, c, memcpyGbs));
    return cells;
  });
  printGrid(head, body, numeric);
  const errors = rows.flatMap((r) => [
    ...(r.pytorch_error ? [`${r.id} PyTorch: ${r.pytorch_error}`] : []),
    ...(c.wasm && r.wasm_error ? [`${r.id} wasm: ${r.wasm_error}`] : []),
    ...(c.tfjs && r.tfjs_error ? [`${r.id} TF.js: ${r.tfjs_error}`] : []),
  ]);
  for (const e of errors) console.log(`  error: ${e}`);
}

/** Prints rows under a header with a rule, numeric columns right-aligned. */
export function printGrid(head: string[], body: string[][], numeric: Set<number>): void {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((x, i) => (numeric.has(i) ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}
