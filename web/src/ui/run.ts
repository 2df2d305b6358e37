// The page's side of the training worker: messages in (ready, snapshots, errors), commands out, and what to show.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FromWorker, Settings, ToWorker } from '../protocol.js';
import type { EvalView } from './bnstats.js';
import { FrameTicker, type Live } from './frame.js';
import { RunHistory, type Ready, type Snapshot } from './history.js';

/** Least time between re-renders of the page's numbers and tables (the charts keep their own, faster pace). */
const TEXT_MS = 100;
/** Errors kept on screen; older ones scroll away. */
const KEEP_ERRORS = 5;

export interface Run {
  live: Live;
  ready: Ready | null;
  /** The latest snapshot, refreshed at most every TEXT_MS. */
  frame: Snapshot | null;
  errors: string[];
  clearErrors(): void;
  /** Starts a new run of `s` (keeps playing if it was). */
  reset(s: Settings): void;
  play(): void;
  pause(): void;
  step(): void;
  setEvalView(v: EvalView): void;
  /** Whether the run plays (as the worker last said, else as asked). */
  playing: boolean;
}

/** What the worker's handlers feed: kept in refs so that a message costs no render until the frame is drawn. */
interface Feed {
  live: Live;
  latest: { current: Snapshot | null };
  awaitingReady: { current: boolean };
  setReady(r: Ready): void;
  setFrame(f: Snapshot | null): void;
  addError(m: string): void;
}

/** Wires the worker's messages: 'ready' starts a run, snapshots feed the history and are drawn once per frame. */
function connect(worker: Worker, f: Feed): () => void {
  worker.onmessage = (e: MessageEvent<FromWorker>) => {
    const msg = e.data;
    if (msg.type === 'ready') {
      f.awaitingReady.current = false;
      f.live.history.clear();
      f.latest.current = null;
      f.setReady(msg);
      f.setFrame(null);
      f.live.ticker.mark();
    } else if (msg.type === 'snapshot') {
      if (f.awaitingReady.current) return; // the old run's snapshots still in flight after a reset
      f.live.history.push(msg.step, msg.nets);
      f.latest.current = msg;
      f.live.ticker.mark();
    } else if (msg.type === 'error') {
      f.addError(msg.message);
    }
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    f.addError(`The training worker failed: ${e.message || 'it could not be loaded'}`);
  };
  worker.onmessageerror = () => f.addError('A message from the training worker could not be read.');

  // Numbers and tables: text that changes 60 times a second cannot be read, and each change costs a layout.
  let lastText = 0;
  let textTimer: ReturnType<typeof setTimeout> | undefined;
  const showText = () => {
    textTimer = undefined;
    lastText = performance.now();
    f.setFrame(f.latest.current);
  };
  const unsubscribe = f.live.ticker.subscribe(() => {
    const wait = TEXT_MS - (performance.now() - lastText);
    if (wait <= 0) showText();
    else textTimer ??= setTimeout(showText, wait);
  });
  return () => {
    unsubscribe();
    clearTimeout(textTimer);
    worker.onmessage = null;
    worker.onerror = null;
    worker.onmessageerror = null;
  };
}

/** Errors anywhere on the page are said on the page: a crash must never leave it blank or silently stuck. */
function catchPageErrors(addError: (m: string) => void): () => void {
  const onError = (e: ErrorEvent) => addError(e.message || 'an error in the page');
  const onRejection = (e: PromiseRejectionEvent) => addError(e.reason instanceof Error ? e.reason.message : String(e.reason));
  window.addEventListener('error', onError);
  window.addEventListener('unhandledrejection', onRejection);
  return () => {
    window.removeEventListener('error', onError);
    window.removeEventListener('unhandledrejection', onRejection);
  };
}

export function useRun(worker: Worker | null, backend: 'wasm' | 'ts' | undefined, startError?: string): Run {
  const live: Live = useMemo(() => ({ history: new RunHistory(), ticker: new FrameTicker() }), []);
  const [errors, setErrors] = useState<string[]>(startError ? [startError] : []);
  const [ready, setReady] = useState<Ready | null>(null);
  const [frame, setFrame] = useState<Snapshot | null>(null);
  const latest = useRef<Snapshot | null>(null);
  const awaitingReady = useRef(true);
  /** What the person asked for; kept across resets so changing a setting mid-run keeps it running. */
  const wantPlaying = useRef(false);

  const addError = useCallback((m: string) => setErrors((es) => [...es.slice(1 - KEEP_ERRORS), m]), []);
  const post = useCallback(
    (msg: ToWorker) => {
      try {
        worker?.postMessage(msg);
      } catch (e) {
        addError(`Could not send '${msg.type}' to the worker: ${String(e)}`);
      }
    },
    [worker, addError],
  );

  useEffect(() => (worker ? connect(worker, { live, latest, awaitingReady, setReady, setFrame, addError }) : undefined), [worker]);
  useEffect(() => catchPageErrors(addError), []);

  const reset = useCallback(
    (s: Settings) => {
      awaitingReady.current = true;
      latest.current = null;
      live.history.clear();
      setFrame(null);
      post({ type: 'reset', settings: s, backend });
      if (wantPlaying.current) post({ type: 'play' });
    },
    [post, backend],
  );
  const play = useCallback(() => {
    wantPlaying.current = true;
    post({ type: 'play' });
  }, [post]);
  const pause = useCallback(() => {
    wantPlaying.current = false;
    post({ type: 'pause' });
  }, [post]);
  const step = useCallback(() => {
    wantPlaying.current = false;
    post({ type: 'pause' });
    post({ type: 'step', steps: 1 });
  }, [post]);
  const setEvalView = useCallback((v: EvalView) => post({ type: 'evalView', evalMode: v.evalMode, evalBatch: v.evalBatch }), [post]);

  return {
    live,
    ready,
    frame,
    errors,
    clearErrors: () => setErrors([]),
    reset,
    play,
    pause,
    step,
    setEvalView,
    playing: frame?.playing ?? wantPlaying.current,
  };
}
