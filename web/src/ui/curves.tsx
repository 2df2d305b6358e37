// Live curves: loss and accuracy of both networks, and per hidden layer its pre-activation bands and gradient norm.
import uPlot from 'uplot';
import { LiveChart } from './chart.js';
import type { RunHistory } from './history.js';
import { NET_COLORS, SIDES, type Side, alpha, fmt } from './labels.js';

const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

function axis(extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    stroke: '#5c636a',
    font: FONT,
    grid: { stroke: '#edf0f2', width: 1 },
    ticks: { stroke: '#dee2e6', width: 1, size: 4 },
    ...extra,
  };
}

const yValues = (_u: uPlot, splits: number[]) => splits.map((v) => fmt(v, 2));

/**
 * A log scale clipped to [lo, hi]: a diverging net's loss of 1e30 would otherwise squash every other curve
 * into the bottom pixel row; past the clip its curve leaves the chart, which says the same.
 */
function clippedLog(lo: number, hi: number): uPlot.Scale {
  return {
    distr: 3,
    range: (_u, min, max) => {
      const a = Number.isFinite(min) && min > 0 ? Math.min(Math.max(min, lo), hi / 10) : 0.1;
      const b = Number.isFinite(max) && max > 0 ? Math.max(Math.min(max, hi), a * 10) : Math.max(1, a * 10);
      return uPlot.rangeLog(a, b, 10, true);
    },
  };
}

/** Log-axis labels: powers of ten only, thinned so that at most `most` are shown (small charts span many decades). */
function logValues(most: number) {
  return (_u: uPlot, splits: number[]) => {
    const decade = (v: number) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9;
    const decades = splits.filter((v) => v > 0 && decade(v));
    const every = Math.max(1, Math.ceil(decades.length / most));
    return splits.map((v) => {
      if (!(v > 0) || !decade(v)) return null;
      const k = Math.round(Math.log10(v));
      if (k % every !== 0) return null;
      return k >= -3 && k <= 4 ? String(Number(v.toPrecision(1))) : `1e${k}`;
    });
  };
}
const stepAxis = () => axis({ size: 28 });

/** Loss (log scale) or accuracy of both networks, train solid and test dashed. */
function metricOptions(metric: 'loss' | 'acc'): Omit<uPlot.Options, 'width' | 'height'> {
  const series: uPlot.Series[] = [{ label: 'step' }];
  for (const side of SIDES) {
    for (const split of ['train', 'test'] as const) {
      series.push({
        label: `${side} ${split}`,
        stroke: NET_COLORS[side],
        width: split === 'train' ? 1.5 : 1.25,
        dash: split === 'test' ? [5, 4] : undefined,
        spanGaps: false,
        points: { show: false },
        value: (_u, v) => (v === null ? '–' : metric === 'acc' ? `${(v * 100).toFixed(1)}%` : fmt(v)),
      });
    }
  }
  return {
    series,
    scales: { x: { time: false }, y: metric === 'loss' ? clippedLog(1e-4, 1e4) : { range: [0, 1] } },
    axes: [
      stepAxis(),
      metric === 'acc' ? axis({ size: 44, values: (_u, s) => s.map((v) => `${Math.round(v * 100)}%`) }) : axis({ size: 44, values: logValues(6) }),
    ],
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
  };
}

function metricData(metric: 'loss' | 'acc') {
  return (h: RunHistory): uPlot.AlignedData => {
    const out: uPlot.AlignedData = [h.steps];
    for (const n of h.nets) {
      if (metric === 'loss') out.push(n.trainLoss, n.testLoss);
      else out.push(n.trainAcc, n.testAcc);
    }
    return out;
  };
}

export function MetricCharts() {
  return (
    <div class="metric-charts">
      <figure>
        <figcaption>Loss <span class="hint">(log scale; train solid, test dashed)</span></figcaption>
        <LiveChart testid="loss-chart" shape="loss" height={190} minInterval={33} options={() => metricOptions('loss')} data={metricData('loss')} />
      </figure>
      <figure>
        <figcaption>Accuracy</figcaption>
        <LiveChart testid="acc-chart" shape="acc" height={190} minInterval={33} options={() => metricOptions('acc')} data={metricData('acc')} />
      </figure>
    </div>
  );
}

/** The 15th-85th percentile band and the median of one layer's pre-activations over time, as Figure 1b/c of the paper. */
function bandOptions(side: Side): Omit<uPlot.Options, 'width' | 'height'> {
  const c = NET_COLORS[side];
  return {
    series: [
      { label: 'step' },
      { label: 'p85', stroke: alpha(c, 0.5), width: 1, points: { show: false }, value: (_u, v) => fmt(v) },
      { label: 'p50', stroke: c, width: 1.5, points: { show: false }, value: (_u, v) => fmt(v) },
      { label: 'p15', stroke: alpha(c, 0.5), width: 1, points: { show: false }, value: (_u, v) => fmt(v) },
    ],
    bands: [{ series: [1, 3], fill: alpha(c, 0.15) }],
    scales: { x: { time: false } },
    axes: [
      axis({ size: 22, font: '10px system-ui, sans-serif' }),
      axis({ size: 40, space: 14, values: yValues, font: '10px system-ui, sans-serif' }),
    ],
    legend: { show: false },
    cursor: { show: false },
  };
}

export function LayerBands(props: { side: Side; index: number; layers: string[] }) {
  const k = props.index;
  return (
    <div class="small-multiples" data-testid={`bands-${props.side}`}>
      {props.layers.map((name, i) => (
        <figure key={name + i} class="small">
          <figcaption>{name}</figcaption>
          <LiveChart
            shape={`band-${props.side}-${i}`}
            height={96}
            minInterval={150}
            options={() => bandOptions(props.side)}
            data={(h) => [h.steps, h.nets[k].p85[i] ?? [], h.nets[k].p50[i] ?? [], h.nets[k].p15[i] ?? []]}
          />
        </figure>
      ))}
    </div>
  );
}

/** Shades of the network's colour from the first layer (light) to the last (dark). */
function layerShade(side: Side, i: number, n: number): string {
  return alpha(NET_COLORS[side], 0.3 + (0.7 * (i + 1)) / Math.max(1, n));
}

export function GradNorms(props: { side: Side; index: number; layers: string[] }) {
  const { side, index: k, layers } = props;
  const options = (): Omit<uPlot.Options, 'width' | 'height'> => ({
    series: [
      { label: 'step' },
      ...layers.map((name, i) => ({
        label: name,
        stroke: layerShade(side, i, layers.length),
        width: 1.25,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => fmt(v),
      })),
    ],
    scales: { x: { time: false }, y: clippedLog(1e-8, 1e8) },
    axes: [stepAxis(), axis({ size: 44, values: logValues(4) })],
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
  });
  return (
    <LiveChart
      testid={`grad-${side}`}
      class="grad-chart"
      shape={`grad-${side}-${layers.join(',')}`}
      height={140}
      minInterval={100}
      options={options}
      data={(h) => [h.steps, ...layers.map((_, i) => h.nets[k].gradNorm[i] ?? [])]}
    />
  );
}
