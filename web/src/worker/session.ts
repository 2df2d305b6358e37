// The worker's loop: handles the page's messages, trains the pair frame by frame and posts snapshots, yielding between frames.
import { setBackend } from '../../../src/kernels/select.js';
import { makeData } from '../data/index.js';
import type { DigitsAsset } from '../data/digits-format.js';
import type { FromWorker, Settings, ToWorker } from '../protocol.js';
import { Pair, type EvalView } from './pair.js';

/** Snapshots are posted at most this often while playing (a display refreshes at 60 Hz). */
const POST_MS = 1000 / 60;
/** Probes that cost a pass over data (test metrics, boundary, percentiles) run at most this often... */
const FULL_MS = 100;
/** ...and at most 1/FULL_SHARE of the time: on the digits net a full snapshot costs ~25 ms, so it runs ~7 times a second. */
const FULL_SHARE = 6;
/** A frame stops early past this, so a large stepsPerFrame on a big net cannot freeze message handling. */
const FRAME_MS = 100;

export type Post = (m: FromWorker) => void;
/** Runs fn after the event loop has had a turn (messages from the page are handled in between). */
export type Defer = (fn: () => void) => void;

/**
 * A Defer on MessageChannel where there is one: unlike setTimeout(0), which browsers clamp to 4 ms once timers
 * nest, a posted message comes back at once, and the page's messages are still handled in between.
 */
export function channelDefer(): Defer {
  if (typeof MessageChannel === 'undefined') return (fn) => void setTimeout(fn, 0);
  const ch = new MessageChannel();
  const queue: (() => void)[] = [];
  ch.port1.onmessage = () => queue.shift()?.();
  return (fn) => {
    queue.push(fn);
    ch.port2.postMessage(null);
  };
}

/** Selects the engine's backend: wasm (WebAssembly SIMD) unless 'ts' is asked for or wasm cannot load here. */
function selectBackend(want: 'wasm' | 'ts'): string {
  if (want === 'ts') return setBackend('ts').name;
  try {
    return setBackend('wasm').name;
  } catch (e) {
    setBackend('ts');
    return `ts (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** The training session of one worker. Reset keeps playing if it was playing. */
export class Session {
  private pair: Pair | null = null;
  private playing = false;
  /** Steps still to take for 'step' messages. */
  private pending = 0;
  private scheduled = false;
  private view: EvalView = { evalMode: false, evalBatch: 32 };
  /** Counts resets, so a slow one (fetching digits) that a newer reset overtook is dropped. */
  private generation = 0;
  private lastPost = -Infinity;
  /** When the next full snapshot is due (see FULL_MS, FULL_SHARE). */
  private nextFull = -Infinity;
  private rate = { t0: 0, step0: 0, perSec: 0 };
  private digits: Promise<DigitsAsset> | null = null;

  constructor(private readonly post: Post, private readonly loadDigits: () => Promise<DigitsAsset>, private readonly defer: Defer = channelDefer()) {}

  /** Handles one message from the page; errors are posted as { type: 'error' }, never thrown. */
  async handle(msg: ToWorker): Promise<void> {
    try {
      switch (msg.type) {
        case 'reset':
          return await this.reset(msg.settings, msg.backend ?? 'wasm');
        case 'play':
          this.playing = true;
          this.pending = 0;
          this.rate = { t0: performance.now(), step0: this.pair?.step ?? 0, perSec: 0 };
          return this.schedule();
        case 'pause':
          this.playing = false;
          this.pending = 0;
          return this.postSnapshot(true);
        case 'step':
          this.pending += Math.max(0, Math.floor(msg.steps));
          return this.schedule();
        case 'evalView':
          this.view = { evalMode: msg.evalMode, evalBatch: msg.evalBatch };
          if (!this.running) this.postSnapshot(true);
          return;
        default: {
          const never: never = msg;
          throw new Error(`unknown message ${JSON.stringify(never)}`);
        }
      }
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private get running(): boolean {
    return this.pair !== null && !this.pair.stopped && (this.playing || this.pending > 0);
  }

  private async reset(settings: Settings, backend: 'wasm' | 'ts'): Promise<void> {
    const gen = ++this.generation;
    this.pair = null;
    this.pending = 0;
    const name = selectBackend(backend);
    const data = await makeData(settings, () => (this.digits ??= this.loadDigits().catch((e: unknown) => {
      this.digits = null; // a failed fetch is retried by the next reset
      throw e;
    })));
    if (gen !== this.generation) return;
    this.pair = new Pair(settings, data);
    this.rate = { t0: performance.now(), step0: 0, perSec: 0 };
    this.post({ type: 'ready', backend: name, points: data.points, inputs: data.inputs, classes: data.classes });
    this.postSnapshot(true);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.running) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      try {
        this.frame();
      } catch (e) {
        this.playing = false;
        this.pending = 0;
        this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
    });
  }

  /** One frame: up to stepsPerFrame steps (fewer past FRAME_MS), then a snapshot if one is due, then yield. */
  private frame(): void {
    const pair = this.pair;
    if (pair === null || !this.running) return;
    const t0 = performance.now();
    let left = this.playing ? pair.settings.stepsPerFrame : Math.min(pair.settings.stepsPerFrame, this.pending);
    // Chunks of 8 let a heavy net stop at FRAME_MS; the chunk size does not change the run (see Pair.train).
    while (left > 0 && !pair.stopped) {
      const n = Math.min(8, left);
      pair.train(n);
      left -= n;
      if (!this.playing) this.pending -= n;
      if (performance.now() - t0 > FRAME_MS) break;
    }
    if (pair.stopped) {
      this.playing = false;
      this.pending = 0;
    }
    const now = performance.now();
    if (now - this.rate.t0 >= 500) {
      this.rate = { t0: now, step0: pair.step, perSec: ((pair.step - this.rate.step0) * 1000) / (now - this.rate.t0) };
    }
    if (!this.running || now - this.lastPost >= POST_MS) this.postSnapshot(!this.running || now >= this.nextFull);
    this.schedule();
  }

  private postSnapshot(full: boolean): void {
    const pair = this.pair;
    if (pair === null) return;
    const now = performance.now();
    const nets = pair.snapshot(full, this.view);
    this.lastPost = performance.now();
    if (full) this.nextFull = now + Math.max(FULL_MS, FULL_SHARE * (this.lastPost - now));
    this.post({ type: 'snapshot', step: pair.step, stepsPerSec: this.running ? this.rate.perSec : 0, playing: this.playing, nets });
  }
}
