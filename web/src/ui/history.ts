// The page's memory of a run: bounded time series of both networks, fed by worker snapshots and drawn once per frame.
import type { FromWorker, NetSnapshot } from '../protocol.js';

export type Ready = Extract<FromWorker, { type: 'ready' }>;
export type Snapshot = Extract<FromWorker, { type: 'snapshot' }>;

/** Points kept per series; past this, every other point is dropped and only every 2nd, 4th, ... snapshot is kept. */
export const MAX_POINTS = 2000;

export type Series = (number | null)[];

/** The curves of one network: metrics, and per hidden layer its percentile bands and gradient norm. */
export interface NetHistory {
  trainLoss: Series;
  testLoss: Series;
  trainAcc: Series;
  testAcc: Series;
  layerNames: string[];
  p15: Series[];
  p50: Series[];
  p85: Series[];
  gradNorm: Series[];
}

function emptyNet(): NetHistory {
  return { trainLoss: [], testLoss: [], trainAcc: [], testAcc: [], layerNames: [], p15: [], p50: [], p85: [], gradNorm: [] };
}

/** NaN/Inf become gaps (uPlot draws null as a gap; NaN would poison its scales). */
const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
/** For log-scale charts: values <= 0 become gaps too. */
const positive = (v: number): number | null => (Number.isFinite(v) && v > 0 ? v : null);

function halve(s: Series): void {
  let j = 0;
  for (let i = 0; i < s.length; i += 2) s[j++] = s[i];
  s.length = j;
}

/**
 * Bounded history with decimation: snapshots arrive every frame; once MAX_POINTS are stored, the stored series are
 * halved and the keeping stride doubles, so a long run still spans its whole length in at most MAX_POINTS points.
 */
export class RunHistory {
  steps: number[] = [];
  nets: [NetHistory, NetHistory] = [emptyNet(), emptyNet()];
  private stride = 1;
  private seen = 0;
  /** Bumped on every change, so views redraw only when something is new. */
  version = 0;

  clear(): void {
    this.steps = [];
    this.nets = [emptyNet(), emptyNet()];
    this.stride = 1;
    this.seen = 0;
    this.version++;
  }

  push(step: number, nets: readonly [NetSnapshot, NetSnapshot]): void {
    const last = this.steps[this.steps.length - 1];
    if (last !== undefined && step <= last) return; // a repeated snapshot (paused) adds nothing
    if (this.seen++ % this.stride !== 0) return;
    this.steps.push(step);
    nets.forEach((snap, k) => pushNet(this.nets[k], snap, this.steps.length));
    if (this.steps.length >= MAX_POINTS) {
      halve(this.steps);
      for (const n of this.nets) for (const s of allSeries(n)) halve(s);
      this.stride *= 2;
    }
    this.version++;
  }
}

function allSeries(n: NetHistory): Series[] {
  return [n.trainLoss, n.testLoss, n.trainAcc, n.testAcc, ...n.p15, ...n.p50, ...n.p85, ...n.gradNorm];
}

function pushNet(h: NetHistory, snap: NetSnapshot, length: number): void {
  h.trainLoss.push(positive(snap.trainLoss));
  h.testLoss.push(positive(snap.testLoss));
  h.trainAcc.push(finite(snap.trainAcc));
  h.testAcc.push(finite(snap.testAcc));
  // Layers appear with the first snapshot; a late layer is padded with gaps so all series stay aligned with steps.
  snap.layers.forEach((layer, i) => {
    if (h.layerNames[i] === undefined) {
      h.layerNames[i] = layer.name;
      for (const arr of [h.p15, h.p50, h.p85, h.gradNorm]) arr[i] = new Array<number | null>(length - 1).fill(null);
    }
    h.p15[i].push(finite(layer.p15));
    h.p50[i].push(finite(layer.p50));
    h.p85[i].push(finite(layer.p85));
    h.gradNorm[i].push(positive(layer.gradNorm));
  });
  for (let i = snap.layers.length; i < h.layerNames.length; i++) {
    for (const arr of [h.p15, h.p50, h.p85, h.gradNorm]) arr[i].push(null);
  }
}
