// Play, pause, step and reset; and one line saying where the run is: step, speed, backend, divergence, errors.
import type { Ready, Snapshot } from './history.js';
import { SIDES, labelOf } from './labels.js';

export function Transport(props: { playing: boolean; onPlay: () => void; onPause: () => void; onStep: () => void; onReset: () => void }) {
  return (
    <div class="transport" role="group" aria-label="run">
      <button type="button" class={`primary ${props.playing ? 'active' : ''}`} data-testid="play" onClick={props.onPlay} title="play (space)">
        ▶ Play
      </button>
      <button type="button" class={props.playing ? '' : 'active'} data-testid="pause" onClick={props.onPause} title="pause (space)">
        ❚❚ Pause
      </button>
      <button type="button" data-testid="step-once" id="step-button" onClick={props.onStep} title="one training step">
        Step
      </button>
      <button type="button" data-testid="reset" onClick={props.onReset} title="restart both networks from the seed">
        ↺ Reset
      </button>
    </div>
  );
}

export function StatusLine(props: { frame: Snapshot | null; ready: Ready | null; norms: [string, string]; errors: number }) {
  const { frame, ready } = props;
  const diverged = SIDES.map((side, k) => ({ side, k, msg: frame?.nets[k].diverged ?? null })).filter((d) => d.msg);
  return (
    <div class="status" role="status" data-testid="status">
      <span>
        step <b data-testid="step">{frame?.step ?? 0}</b>
      </span>
      <span>
        <b data-testid="sps">{frame ? Math.round(frame.stepsPerSec) : 0}</b> steps/s
      </span>
      <span>
        backend <b data-testid="backend">{ready?.backend ?? '…'}</b>
      </span>
      <span class={frame?.playing ? 'running' : 'paused'} data-testid="run-state">
        {ready ? (frame?.playing ? 'training' : 'paused') : 'starting…'}
      </span>
      {diverged.map((d) => (
        <span key={d.side} class="bad">
          {d.side} ({labelOf(props.norms[d.k])}) diverged
        </span>
      ))}
      {props.errors > 0 && <span class="bad">{props.errors === 1 ? '1 error' : `${props.errors} errors`} (see above)</span>}
    </div>
  );
}
