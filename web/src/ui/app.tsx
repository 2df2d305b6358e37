// The page: settings in the URL hash, the worker that trains both networks, and the views side by side.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Settings } from '../protocol.js';
import { BnSection, type EvalView } from './bnstats.js';
import { Controls } from './controls.js';
import { MetricCharts } from './curves.js';
import { Banners, ErrorBoundary } from './errors.js';
import { LiveContext } from './frame.js';
import { useHashSettings } from './hash.js';
import { LayerColumns, NetColumns } from './nets.js';
import { PresetPicker, presetSettings } from './presetpicker.js';
import { ResultsPanel } from './results.js';
import { useRun } from './run.js';
import { StatusLine, Transport } from './status.js';

export interface AppProps {
  worker: Worker | null;
  /** Set when the worker could not be created: shown instead of training. */
  workerError?: string;
  backend?: 'wasm' | 'ts';
}

/** Space plays and pauses, unless a control has the keyboard. */
function useSpaceToPlay(playing: boolean, play: () => void, pause: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key !== ' ' || (t && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName))) return;
      e.preventDefault();
      if (playing) pause();
      else play();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [playing, play, pause]);
}

export function App(props: AppProps) {
  // useRun first: its effect wires the worker before useHashSettings' effect sends the first reset.
  const run = useRun(props.worker, props.backend, props.workerError);
  const hash = useHashSettings(run.reset);
  const { settings, apply } = hash;
  const [view, setView] = useState<EvalView>({ evalMode: false, evalBatch: 32 });

  const onControl = useCallback(
    (key: keyof Settings, value: number | string) => apply({ ...hash.current(), [key]: value } as Settings, key),
    [apply],
  );
  const onPreset = useCallback((id: string) => apply(presetSettings(id), 'preset'), [apply]);
  const onView = useCallback(
    (v: EvalView) => {
      setView(v);
      run.setEvalView(v);
    },
    [run.setEvalView],
  );
  useSpaceToPlay(run.playing, run.play, run.pause);
  // The worker starts with the same view; saying it keeps the two in step should either default change.
  useEffect(() => run.setEvalView(view), []);

  const { frame, ready } = run;
  const norms: [string, string] = [settings.left, settings.right];
  return (
    <LiveContext.Provider value={run.live}>
      <div class="head">
        <header class="topbar">
          <div class="brand">
            <h1>bnlab</h1>
            <span class="tagline">two networks, one difference: normalization</span>
          </div>
          <PresetPicker settings={settings} onPick={onPreset} />
          <Transport playing={run.playing} onPlay={run.play} onPause={run.pause} onStep={run.step} onReset={() => run.reset(hash.current())} />
        </header>
        <StatusLine frame={frame} ready={ready} norms={norms} errors={run.errors.length} />
      </div>
      <div class="layout">
        <aside class="panel">
          <Controls settings={settings} onChange={onControl} />
        </aside>
        <main class="views">
          <Banners warnings={hash.warnings} errors={run.errors} onDismissWarnings={hash.dismissWarnings} onDismissErrors={run.clearErrors} />
          <ErrorBoundary where="the views of the run">
            <NetColumns frame={frame} ready={ready} norms={norms} />
            <section class="card">
              <MetricCharts />
            </section>
            <BnSection nets={frame?.nets ?? null} norms={norms} view={view} onView={onView} />
            <LayerColumns norms={norms} activation={settings.activation} />
          </ErrorBoundary>
          <section id="results">
            <ErrorBoundary where="the results panel">
              <ResultsPanel />
            </ErrorBoundary>
          </section>
        </main>
      </div>
    </LiveContext.Provider>
  );
}
