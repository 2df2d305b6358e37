// Run progress: a bar with ETA on a terminal (cli-progress), plain periodic lines otherwise (CI, pipes), or nothing.
import cliProgress from 'cli-progress';
import type { Trial } from '../results.js';

/** Receives a run's progress. The runner calls it; implementations decide how (and whether) to show it. */
export interface ProgressSink {
  /**
   * A run of `total` trials starts; `already` were finished before (a resumed run). `groups` (trials per
   * experiment, keyed like trialDone's `where`) makes each experiment an equal share of the progress.
   */
  begin(label: string, total: number, already: number, detail: string, groups?: ProgressGroups): void;
  /** A running trial has done this fraction (0..1) of its work; `key` is `${where}/${trial id}` (see trialDone). */
  update(key: string, fraction: number): void;
  /** A trial finished (and is in the journal); `where` names its experiment in a study. */
  trialDone(trial: Trial, where?: string): void;
  /** The run is over (or failed); stop drawing. */
  end(): void;
  /** A line of information (printed so it does not garble a bar). */
  log(line: string): void;
}

/** How progress is shown: 'auto' = bar on a TTY, plain lines otherwise. */
export type ProgressMode = 'auto' | 'bar' | 'plain' | 'silent';

/** Seconds as "1m 05s" / "42s". */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Trials per experiment, for weighting progress in a study. */
export type ProgressGroups = Record<string, { total: number; done: number }>;

/**
 * Work accounting shared by the bar and the lines. In a study each experiment counts as an equal share of
 * the work (its trials split that share), because quick presets are budgeted per experiment: counting trials
 * instead made fig1's 6 heavy trials look like 1.5% of the study and the first ETA 15x too long.
 * The ETA extrapolates this session's speed (trials found in the journal excluded).
 */
class Tally {
  label = '';
  total = 0;
  done = 0;
  private t0 = 0;
  private weights = new Map<string, number>();
  private fallback = 0;
  private finished = 0;
  private start = 0;
  private readonly running = new Map<string, number>();

  begin(label: string, total: number, already: number, groups?: ProgressGroups): void {
    this.label = label;
    this.total = total;
    this.done = already;
    this.t0 = performance.now();
    this.running.clear();
    this.fallback = total > 0 ? 1 / total : 0;
    this.weights = new Map();
    this.finished = already * this.fallback;
    if (groups) {
      const live = Object.entries(groups).filter(([, g]) => g.total > 0);
      this.finished = 0;
      for (const [name, g] of live) {
        const w = 1 / (live.length * g.total);
        this.weights.set(name, w);
        this.finished += g.done * w;
      }
    }
    this.start = this.finished;
  }
  private weight(key: string): number {
    const slash = key.indexOf('/');
    return (slash > 0 ? this.weights.get(key.slice(0, slash)) : undefined) ?? this.fallback;
  }
  update(key: string, f: number): void {
    this.running.set(key, Math.min(1, Math.max(0, f)));
  }
  finish(key: string): void {
    this.running.delete(key);
    this.done++;
    this.finished += this.weight(key);
  }
  /** Fraction of the whole run done, counting partial trials. */
  fraction(): number {
    if (this.total === 0) return 1;
    let partial = 0;
    for (const [key, f] of this.running) partial += f * this.weight(key);
    return Math.min(1, this.finished + partial);
  }
  elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }
  /** Seconds left, extrapolating this session's speed; NaN before anything is measurable. */
  eta(): number {
    const todo = 1 - this.start;
    if (todo <= 1e-9 || this.done >= this.total) return 0;
    const f = (this.fraction() - this.start) / todo;
    if (f <= 0.005) return NaN;
    return (this.elapsed() * (1 - f)) / f;
  }
}

function trialNote(t: Trial, where?: string): string {
  const s = `${where ? `${where} ` : ''}${t.id} in ${(t.durationMs / 1000).toFixed(1)}s`;
  return t.diverged ? `${s}, diverged at step ${t.divergedAt ?? '?'}` : s;
}

/**
 * Plain lines (CI logs, pipes): one when a run starts, then at most one every `everySec` seconds as trials
 * finish (a study has hundreds of trials; a line each would bury the findings), a heartbeat after
 * `heartbeatSec` without one, and a last line when all are done.
 */
class LineProgress implements ProgressSink {
  private readonly tally = new Tally();
  private lastLine = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly write: (line: string) => void, private readonly heartbeatSec: number, private readonly everySec: number) {}

  begin(label: string, total: number, already: number, detail: string, groups?: ProgressGroups): void {
    this.tally.begin(label, total, already, groups);
    this.write(`${label}: ${total} trials${already ? ` (${already} already done, resuming)` : ''}; ${detail}`);
    this.lastLine = performance.now();
    this.timer = setInterval(() => {
      if (performance.now() - this.lastLine >= this.heartbeatSec * 1000) this.line('running');
    }, 1000);
    this.timer.unref();
  }
  update(id: string, f: number): void {
    this.tally.update(id, f);
    // Inline runs (--jobs 1) block the event loop during a trial, so the timer cannot fire: check here too.
    if (performance.now() - this.lastLine >= this.heartbeatSec * 1000) this.line('running');
  }
  trialDone(t: Trial, where?: string): void {
    this.tally.finish(where ? `${where}/${t.id}` : t.id);
    const last = this.tally.done >= this.tally.total;
    if (last || performance.now() - this.lastLine >= this.everySec * 1000) this.line(trialNote(t, where === this.tally.label ? undefined : where));
  }
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
  log(line: string): void {
    this.write(line);
  }
  private line(what: string): void {
    const t = this.tally;
    const pct = Math.round(100 * t.fraction());
    const eta = t.done >= t.total ? `done in ${fmtDuration(t.elapsed())}` : `ETA ${fmtDuration(t.eta())}`;
    this.write(`${t.label} [${t.done}/${t.total}] ${pct}% ${what}; ${eta}`);
    this.lastLine = performance.now();
  }
}

/** A cli-progress bar on stderr, redrawn a few times a second. */
class BarProgress implements ProgressSink {
  private readonly tally = new Tally();
  private bar: cliProgress.SingleBar | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastDraw = 0;

  begin(label: string, total: number, already: number, detail: string, groups?: ProgressGroups): void {
    this.tally.begin(label, total, already, groups);
    process.stderr.write(`${label}: ${total} trials${already ? ` (${already} already done, resuming)` : ''}; ${detail}\n`);
    this.bar = new cliProgress.SingleBar(
      {
        format: '{label} |{bar}| {percentage}% | {trials} trials | {elapsed} elapsed | ETA {etaText}',
        // A hidden cursor would stay hidden after Ctrl-C (cli-progress restores it only on stop()).
        hideCursor: false,
        clearOnComplete: false,
        fps: 5,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(1000, Math.round(1000 * this.tally.fraction()), this.payload());
    this.timer = setInterval(() => this.redraw(), 250);
    this.timer.unref();
  }
  update(id: string, f: number): void {
    this.tally.update(id, f);
    // Inline runs (--jobs 1) block the event loop during a trial: redraw from here as well as the timer.
    if (performance.now() - this.lastDraw >= 250) this.redraw();
  }
  trialDone(t: Trial, where?: string): void {
    this.tally.finish(where ? `${where}/${t.id}` : t.id);
    if (t.diverged) this.log(`  ${trialNote(t, where === this.tally.label ? undefined : where)}`);
    this.redraw();
  }
  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.redraw();
    this.bar?.stop();
    this.bar = null;
  }
  log(line: string): void {
    // Print above the bar: clear the line, write, let the next redraw put the bar back.
    if (this.bar) process.stderr.write(`\r\x1b[K${line}\n`);
    else process.stderr.write(`${line}\n`);
  }
  private payload(): Record<string, string> {
    const t = this.tally;
    const eta = t.eta();
    return {
      label: t.label,
      trials: `${t.done}/${t.total}`,
      elapsed: fmtDuration(t.elapsed()),
      etaText: t.done >= t.total ? '0s' : fmtDuration(eta),
    };
  }
  private redraw(): void {
    this.lastDraw = performance.now();
    this.bar?.update(Math.round(1000 * this.tally.fraction()), this.payload());
  }
}

class SilentProgress implements ProgressSink {
  begin(): void {}
  update(): void {}
  trialDone(): void {}
  end(): void {}
  log(): void {}
}

/**
 * A progress sink for `mode`: 'auto' draws a bar when stderr is a terminal and prints plain lines
 * (to stderr) otherwise: at most one per `everySec` seconds as trials finish (default 5), a heartbeat
 * after `heartbeatSec` seconds without one (default 15).
 */
export function createProgress(
  mode: ProgressMode = 'auto',
  opts: { heartbeatSec?: number; everySec?: number; write?: (line: string) => void } = {},
): ProgressSink {
  const write = opts.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  switch (mode) {
    case 'silent':
      return new SilentProgress();
    case 'bar':
      return new BarProgress();
    case 'plain':
      return new LineProgress(write, opts.heartbeatSec ?? 15, opts.everySec ?? 5);
    case 'auto':
      return process.stderr.isTTY && !process.env.CI ? new BarProgress() : new LineProgress(write, opts.heartbeatSec ?? 15, opts.everySec ?? 5);
    default: {
      const never: never = mode;
      throw new Error(`unknown progress mode ${String(never)}`);
    }
  }
}
