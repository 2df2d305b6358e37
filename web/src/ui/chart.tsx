// A live uPlot chart: built once per shape, fed from the run history at most once per frame, idle when off screen.
import { useContext, useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { LiveContext } from './frame.js';
import type { RunHistory } from './history.js';

export interface LiveChartProps {
  /** uPlot options for a given width (series, axes, scales); width and height are filled in here. */
  options: (width: number) => Omit<uPlot.Options, 'width' | 'height'>;
  data: (h: RunHistory) => uPlot.AlignedData;
  height: number;
  /** Changes when the series change (say, the number of layers): the chart is then rebuilt. */
  shape: string;
  /** Least time between redraws, in ms: small multiples redraw less often than the main curves. */
  minInterval?: number;
  class?: string;
  testid?: string;
}

export function LiveChart(props: LiveChartProps) {
  const { history, ticker } = useContext(LiveContext);
  const host = useRef<HTMLDivElement>(null);
  // The latest props, read by the long-lived callbacks below without rebuilding the chart.
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const el = host.current!;
    const width = Math.max(120, el.clientWidth);
    const plot = new uPlot({ ...props.options(width), width, height: props.height }, props.data(history), el);
    let drawn = history.version;
    let lastDraw = 0;
    let visible = true;
    let queued = false;

    const draw = () => {
      queued = false;
      if (!visible || drawn === history.version) return;
      const now = performance.now();
      const wait = (latest.current.minInterval ?? 0) - (now - lastDraw);
      if (wait > 0) {
        // Too soon: come back once the interval is over, so the last snapshot of a burst is always drawn.
        if (!queued) {
          queued = true;
          setTimeout(draw, wait);
        }
        return;
      }
      lastDraw = now;
      drawn = history.version;
      plot.setData(latest.current.data(history));
    };
    const unsubscribe = ticker.subscribe(draw);

    const resize = new ResizeObserver(() => {
      const w = Math.max(120, el.clientWidth);
      if (Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: latest.current.height });
    });
    resize.observe(el);
    const seen = new IntersectionObserver((entries) => {
      visible = entries.some((e) => e.isIntersecting);
      if (visible) draw();
    });
    seen.observe(el);

    return () => {
      unsubscribe();
      resize.disconnect();
      seen.disconnect();
      plot.destroy();
    };
    // Rebuilt only when the series change; other prop changes are read through `latest`.
  }, [props.shape, props.height]);

  return <div ref={host} class={`chart ${props.class ?? ''}`} data-testid={props.testid} />;
}
