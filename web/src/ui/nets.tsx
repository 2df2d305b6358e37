// The two networks side by side: what each predicts and its latest numbers; below, each one's layers over time.
import { useContext } from 'preact/hooks';
import type { NetSnapshot } from '../protocol.js';
import { BoundaryView, ConfusionView } from './boundary.js';
import { GradNorms, LayerBands } from './curves.js';
import { LiveContext } from './frame.js';
import type { Ready, Snapshot } from './history.js';
import { NET_COLORS, SIDES, type Side, fmt, labelOf, pct } from './labels.js';

function NetTitle(props: { side: Side; norm: string }) {
  return (
    <h2 class="net-title">
      <span class="dot" style={{ background: NET_COLORS[props.side] }} />
      <span class="side">{props.side}</span>
      <span data-testid={`norm-${props.side}`}>{labelOf(props.norm)}</span>
    </h2>
  );
}

function Readouts(props: { side: Side; net: NetSnapshot | null }) {
  const n = props.net;
  return (
    <table class="readouts">
      <thead>
        <tr>
          <th />
          <th>loss</th>
          <th>accuracy</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th>train</th>
          <td data-testid={`loss-${props.side}`}>{fmt(n?.trainLoss, 4)}</td>
          <td data-testid={`train-acc-${props.side}`}>{pct(n?.trainAcc)}</td>
        </tr>
        <tr>
          <th>test</th>
          <td data-testid={`test-loss-${props.side}`}>{fmt(n?.testLoss, 4)}</td>
          <td data-testid={`test-acc-${props.side}`}>{pct(n?.testAcc)}</td>
        </tr>
      </tbody>
    </table>
  );
}

function Picture(props: { side: Side; net: NetSnapshot | null; ready: Ready | null }) {
  const { net, ready, side } = props;
  if (net?.confusion || (ready && !ready.points && ready.classes > 2)) {
    return <ConfusionView confusion={net?.confusion ?? null} testAcc={net?.testAcc ?? NaN} testid={`confusion-${side}`} />;
  }
  if (ready && !ready.points && !net?.boundary) {
    return <div class="no-picture muted">This dataset has more than two inputs: no decision boundary to draw.</div>;
  }
  return <BoundaryView boundary={net?.boundary ?? null} points={ready?.points ?? null} testid={`boundary-${side}`} />;
}

export function NetColumns(props: { frame: Snapshot | null; ready: Ready | null; norms: [string, string] }) {
  const { history } = useContext(LiveContext);
  return (
    <div class="two-col">
      {SIDES.map((side, k) => {
        const net = props.frame?.nets[k] ?? null;
        return (
          <section key={side} class={`card net net-${side}`} data-testid={`net-${side}`}>
            <header class="card-head">
              <NetTitle side={side} norm={props.norms[k]} />
            </header>
            {net?.diverged && (
              <p class="diverged" role="status" data-testid={`diverged-${side}`}>
                ⚠ {net.diverged}
              </p>
            )}
            <div class="net-body">
              <Picture side={side} net={net} ready={props.ready} />
              <div class="net-side">
                <Readouts side={side} net={net} />
                {props.ready?.points && (
                  <p class="legend-points hint">
                    <span class="pt train" /> train <span class="pt test" /> test · shade: predicted class
                  </p>
                )}
                <h3>Gradient norm per layer</h3>
                <p class="hint">log scale; light: first hidden layer, dark: last</p>
                {history.nets[k].layerNames.length > 0 && <GradNorms side={side} index={k} layers={history.nets[k].layerNames} />}
              </div>
            </div>
          </section>
        );
      })}
    </div>
  );
}

/** Per hidden layer: the pre-activation percentile bands over time (Figure 1b/c of the paper). */
export function LayerColumns(props: { norms: [string, string]; activation: string }) {
  const { history } = useContext(LiveContext);
  return (
    <div class="two-col">
      {SIDES.map((side, k) => {
        const layers = history.nets[k].layerNames;
        return (
          <section key={side} class="card" data-testid={`layers-${side}`}>
            <header class="card-head">
              <NetTitle side={side} norm={props.norms[k]} />
            </header>
            <h3>Pre-activations of each hidden layer</h3>
            <p class="hint">
              15th, 50th and 85th percentile of the inputs to the {props.activation} over time, as in Figure 1 of the BN paper.
            </p>
            {layers.length ? <LayerBands side={side} index={k} layers={layers} /> : <p class="muted">Waiting for the first step…</p>}
          </section>
        );
      })}
    </div>
  );
}
