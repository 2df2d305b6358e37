// Canvas views of what a network predicts: the decision boundary over 2-D data, or a confusion grid for digits.
import { useEffect, useRef } from 'preact/hooks';
import type { FromWorker, NetSnapshot } from '../protocol.js';
import { CLASS_COLORS, pct } from './labels.js';

export type Points = Extract<FromWorker, { type: 'ready' }>['points'];
type Boundary = NonNullable<NetSnapshot['boundary']>;

function rgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [n >> 16, (n >> 8) & 255, n & 255];
}
const C0 = rgb(CLASS_COLORS[0]);
const C1 = rgb(CLASS_COLORS[1]);

/** A canvas sized for the screen's pixel ratio; returns its 2-D context scaled to CSS pixels. */
function prepare(canvas: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** The predicted probability of class 1 as colour: class 0's colour, through white at 0.5, to class 1's. */
function heat(b: Boundary, scratch: HTMLCanvasElement): HTMLCanvasElement {
  const n = b.size;
  scratch.width = n;
  scratch.height = n;
  const ctx = scratch.getContext('2d')!;
  const img = ctx.createImageData(n, n);
  for (let r = 0; r < n; r++) {
    // Row 0 of the grid is y0 (the bottom); canvas rows grow downwards.
    const src = (n - 1 - r) * n;
    for (let c = 0; c < n; c++) {
      const p = b.p[src + c];
      const t = Number.isFinite(p) ? Math.min(1, Math.abs(p - 0.5) * 2) * 0.72 : 0;
      const col = p >= 0.5 ? C1 : C0;
      const o = (r * n + c) * 4;
      img.data[o] = 255 + (col[0] - 255) * t;
      img.data[o + 1] = 255 + (col[1] - 255) * t;
      img.data[o + 2] = 255 + (col[2] - 255) * t;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  return scratch;
}

function drawPoints(ctx: CanvasRenderingContext2D, pts: NonNullable<Points>, b: Boundary, w: number, h: number): void {
  const sx = w / (b.x1 - b.x0);
  const sy = h / (b.y1 - b.y0);
  // Train points first, test points (outlined in black) on top.
  for (const pass of [0, 1]) {
    for (let i = 0; i < pts.x.length; i++) {
      if (pts.test[i] !== pass) continue;
      const px = (pts.x[i] - b.x0) * sx;
      const py = h - (pts.y[i] - b.y0) * sy;
      if (!(px >= -3 && px <= w + 3 && py >= -3 && py <= h + 3)) continue;
      ctx.beginPath();
      ctx.arc(px, py, 2.6, 0, 2 * Math.PI);
      ctx.fillStyle = CLASS_COLORS[pts.label[i] % CLASS_COLORS.length];
      ctx.fill();
      ctx.lineWidth = pass ? 1.1 : 0.8;
      ctx.strokeStyle = pass ? '#111' : '#fff';
      ctx.stroke();
    }
  }
}

/** Whether two boundaries are the same picture: the worker repeats its last one between measurements. */
function sameBoundary(a: Boundary | null, b: Boundary | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.size !== b.size || a.x0 !== b.x0 || a.x1 !== b.x1 || a.y0 !== b.y0 || a.y1 !== b.y1) return false;
  for (let i = 0; i < a.p.length; i++) if (a.p[i] !== b.p[i] && !(Number.isNaN(a.p[i]) && Number.isNaN(b.p[i]))) return false;
  return true;
}

export function BoundaryView(props: { boundary: Boundary | null; points: Points; size?: number; testid?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const scratch = useRef<HTMLCanvasElement | null>(null);
  const drawn = useRef<{ boundary: Boundary | null; points: Points; size: number } | null>(null);
  const size = props.size ?? 250;

  useEffect(() => {
    // Snapshots arrive every frame but the boundary is measured a few times a second: redraw only when it changed.
    const last = drawn.current;
    if (last && last.points === props.points && last.size === size && sameBoundary(last.boundary, props.boundary)) return;
    drawn.current = { boundary: props.boundary, points: props.points, size };
    const ctx = prepare(canvas.current!, size, size);
    ctx.clearRect(0, 0, size, size);
    ctx.fillStyle = '#f8f9fa';
    ctx.fillRect(0, 0, size, size);
    const b = props.boundary;
    if (!b || !(b.x1 > b.x0) || !(b.y1 > b.y0)) return;
    scratch.current ??= document.createElement('canvas');
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(heat(b, scratch.current), 0, 0, size, size);
    if (props.points) drawPoints(ctx, props.points, b, size, size);
  }, [props.boundary, props.points, size]);

  return (
    <canvas
      ref={canvas}
      class="boundary"
      data-testid={props.testid}
      style={{ width: `${size}px`, height: `${size}px` }}
      role="img"
      aria-label="decision boundary with train points (white outline) and test points (black outline)"
    />
  );
}

/** Digits: a confusion grid (rows: true digit, columns: predicted; shaded by the row's share) and the worst mix-ups. */
export function ConfusionView(props: { confusion: number[][] | null; testAcc: number; testid?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const size = 220;
  const m = props.confusion;
  const key = m ? m.map((row) => row.join(',')).join(';') : '';

  useEffect(() => {
    const ctx = prepare(canvas.current!, size, size);
    ctx.clearRect(0, 0, size, size);
    if (!m || m.length === 0) return;
    const k = m.length;
    const cell = (size - 16) / k;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (let t = 0; t < k; t++) {
      const total = m[t].reduce((a, v) => a + v, 0) || 1;
      for (let p = 0; p < k; p++) {
        const share = m[t][p] / total;
        const base = t === p ? [47, 158, 68] : [224, 49, 49];
        const a = t === p ? share : Math.min(1, share * 4);
        ctx.fillStyle = `rgba(${base[0]},${base[1]},${base[2]},${a.toFixed(3)})`;
        ctx.fillRect(16 + p * cell, 16 + t * cell, cell - 1, cell - 1);
      }
      ctx.fillStyle = '#5c636a';
      ctx.fillText(String(t), 8, 16 + (t + 0.5) * cell);
      ctx.fillText(String(t), 16 + (t + 0.5) * cell, 8);
    }
  }, [key]);

  return (
    <div class="confusion" data-testid={props.testid}>
      <div class="big-number">
        <span class="value">{pct(props.testAcc)}</span>
        <span class="label">test accuracy</span>
      </div>
      <canvas ref={canvas} style={{ width: `${size}px`, height: `${size}px` }} role="img" aria-label="confusion matrix" />
      <p class="hint">rows: true digit, columns: predicted</p>
      {m && <p class="mixups">{worstMixups(m)}</p>}
    </div>
  );
}

function worstMixups(m: number[][]): string {
  const pairs: [number, number, number][] = [];
  m.forEach((row, t) => row.forEach((v, p) => t !== p && v > 0 && pairs.push([v, t, p])));
  pairs.sort((a, b) => b[0] - a[0]);
  if (pairs.length === 0) return 'No mistakes on the test split.';
  return 'Most confused: ' + pairs.slice(0, 3).map(([v, t, p]) => `${t}→${p} (${v})`).join(', ');
}
