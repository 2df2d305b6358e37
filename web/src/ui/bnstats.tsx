// BatchNorm up close: each unit's batch statistics next to its running ones, and the train/eval switch with its gap.
import type { BnUnits, NetSnapshot } from '../protocol.js';
import { NET_COLORS, SIDES, type Side, USES_BATCH_STATS, fmt, labelOf, pct } from './labels.js';

export interface EvalView {
  evalMode: boolean;
  evalBatch: number;
}

/** mean ± std of the batch (the net's colour) above mean ± std of the running estimate (grey), on one axis. */
function Interval(props: { bn: BnUnits; i: number; lo: number; hi: number; color: string }) {
  const { bn, i, lo, hi } = props;
  const W = 132;
  const x = (v: number) => Math.max(0, Math.min(W, ((v - lo) / (hi - lo || 1)) * W));
  const bar = (m: number, s: number, y: number, color: string) =>
    Number.isFinite(m) && Number.isFinite(s) ? (
      <>
        <rect x={x(m - s)} y={y} width={Math.max(1, x(m + s) - x(m - s))} height={5} fill={color} opacity={0.35} rx={1} />
        <rect x={x(m) - 1} y={y - 1} width={2} height={7} fill={color} />
      </>
    ) : null;
  return (
    <svg width={W} height={18} class="interval" aria-hidden="true">
      {lo < 0 && hi > 0 && <line x1={x(0)} x2={x(0)} y1={0} y2={18} stroke="#ced4da" stroke-dasharray="2 2" />}
      {bar(bn.batchMean[i], bn.batchStd[i], 2, props.color)}
      {bar(bn.runningMean[i], bn.runningStd[i], 11, '#868e96')}
    </svg>
  );
}

function UnitTable(props: { side: Side; bn: BnUnits }) {
  const { bn, side } = props;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < bn.batchMean.length; i++) {
    for (const [m, s] of [[bn.batchMean[i], bn.batchStd[i]], [bn.runningMean[i], bn.runningStd[i]]]) {
      if (Number.isFinite(m - s)) lo = Math.min(lo, m - s);
      if (Number.isFinite(m + s)) hi = Math.max(hi, m + s);
    }
  }
  if (!(hi > lo)) [lo, hi] = [-1, 1];
  return (
    <table class="bn-table" data-testid={`bn-stats-${side}`}>
      <caption>
        {bn.layer}: first {bn.batchMean.length} units
      </caption>
      <thead>
        <tr>
          <th>unit</th>
          <th>batch μ</th>
          <th>running μ</th>
          <th>batch σ</th>
          <th>running σ</th>
          <th class="interval-head">
            <span style={{ color: NET_COLORS[side] }}>batch</span> / <span class="muted">running</span> μ ± σ
          </th>
        </tr>
      </thead>
      <tbody>
        {bn.batchMean.map((_, i) => (
          <tr key={i}>
            <td class="muted">{i}</td>
            <td>{fmt(bn.batchMean[i])}</td>
            <td class="muted">{fmt(bn.runningMean[i])}</td>
            <td>{fmt(bn.batchStd[i])}</td>
            <td class="muted">{fmt(bn.runningStd[i])}</td>
            <td>
              <Interval bn={bn} i={i} lo={lo} hi={hi} color={NET_COLORS[side]} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EvalGapLine(props: { side: Side; gap: NetSnapshot['evalGap'] }) {
  const g = props.gap;
  if (!g) return <p class="eval-gap muted">Tick “measure the train/eval gap” to compare eval mode with train mode on the test split.</p>;
  const points = (g.evalAcc - g.trainModeAcc) * 100;
  return (
    <p class="eval-gap" data-testid={`eval-gap-${props.side}`}>
      test accuracy in eval mode (running stats) <b>{pct(g.evalAcc)}</b> · in train mode with batches of {g.evalBatch}{' '}
      <b>{pct(g.trainModeAcc)}</b> · gap <b>{Number.isFinite(points) ? `${points >= 0 ? '+' : ''}${points.toFixed(1)} pts` : '–'}</b>
    </p>
  );
}

/** The section shown when at least one network keeps batch statistics. */
export function BnSection(props: {
  nets: [NetSnapshot, NetSnapshot] | null;
  norms: [string, string];
  view: EvalView;
  onView: (v: EvalView) => void;
}) {
  const { view, onView, nets } = props;
  const batchSides = SIDES.filter((_, k) => (USES_BATCH_STATS as Record<string, boolean>)[props.norms[k]] || nets?.[k].bn);
  if (batchSides.length === 0) return null;
  return (
    <section class="card bn-section" data-testid="bn-stats">
      <header class="card-head">
        <h2>BatchNorm: batch statistics vs running statistics</h2>
        <div class="eval-controls">
          <label class="switch">
            <input
              type="checkbox"
              id="evalMode"
              name="evalMode"
              data-testid="evalMode"
              checked={view.evalMode}
              onChange={(e) => onView({ ...view, evalMode: e.currentTarget.checked })}
            />
            <span>measure the train/eval gap</span>
          </label>
          <label class="eval-batch">
            train-mode batch <b>{view.evalBatch}</b>
            <input
              type="range"
              id="evalBatch"
              name="evalBatch"
              data-testid="evalBatch"
              min={1}
              max={256}
              step={1}
              value={view.evalBatch}
              onInput={(e) => onView({ ...view, evalBatch: Number(e.currentTarget.value) })}
            />
          </label>
        </div>
      </header>
      <p class="hint">
        In training, BN normalizes each unit with the statistics of its batch; in eval mode with running averages of them.
        Small batches make the two differ, and the test accuracy with them.
      </p>
      <div class="two-col">
        {SIDES.map((side, k) => (
          <div key={side} class="bn-side">
            <h3>
              <span class="dot" style={{ background: NET_COLORS[side] }} /> {side}: {labelOf(props.norms[k])}
            </h3>
            {batchSides.includes(side) ? (
              <>
                <EvalGapLine side={side} gap={nets?.[k].evalGap ?? null} />
                {nets?.[k].bn ? <UnitTable side={side} bn={nets[k].bn} /> : <p class="muted">Waiting for the first step…</p>}
              </>
            ) : (
              <p class="muted">No batch statistics: this network behaves the same in train and eval mode.</p>
            )}
          </div>
        ))}
      </div>
    </section>
  );
}
