// The results panel: choose or drop results.json files from `bnlab run`/`study`; shows their findings and figures as the reports do.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Finding } from '../../../src/lab/results.js';
import { VERDICT_COLORS } from '../../../src/report/html.js';
import { drawSpec } from '../results/embed.js';
import { ResultsFileError } from '../results/errors.js';
import type { PageFigure } from '../results/figures.js';
import { loadResultsFile, type LoadedRun } from '../results/load.js';
import '../results/results.css';

/** A file that could not be shown, and why. */
interface FileProblem {
  file: string;
  problem: string;
}

interface PanelState {
  runs: LoadedRun[];
  problems: FileProblem[];
  loading: boolean;
}

/** Loads every file; the good ones are shown and each bad one gets its message, so one bad file hides nothing. */
async function loadAll(files: File[]): Promise<Omit<PanelState, 'loading'>> {
  const runs: LoadedRun[] = [];
  const problems: FileProblem[] = [];
  for (const f of files) {
    try {
      runs.push(await loadResultsFile(f));
    } catch (err) {
      // A ResultsFileError says what was wrong and what was expected; anything else is a bug, still shown, never a blank panel.
      problems.push(err instanceof ResultsFileError
        ? { file: err.file, problem: err.problem }
        : { file: f.name, problem: `could not be shown: ${(err as Error).message ?? String(err)}` });
    }
  }
  return { runs, problems };
}

/** The panel; takes no props (it owns its files). */
export function ResultsPanel() {
  const [state, setState] = useState<PanelState>({ runs: [], problems: [], loading: false });
  const [over, setOver] = useState(false);

  const take = async (files: File[]) => {
    if (files.length === 0) {
      const problem = 'held no file. Expected a results.json file dragged from a file manager';
      setState({ runs: [], problems: [{ file: 'the drop', problem }], loading: false });
      return;
    }
    setState((s) => ({ ...s, loading: true }));
    setState({ ...(await loadAll(files)), loading: false });
  };

  const onChange = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const files = [...(input.files ?? [])];
    // Cleared so that choosing the same file again (after re-running the experiment) fires change again.
    input.value = '';
    if (files.length) void take(files);
  };
  const onDragOver = (e: DragEvent) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    setOver(true);
  };
  const onDrop = (e: DragEvent) => {
    // Without preventDefault the browser would navigate away to the dropped file.
    e.preventDefault();
    setOver(false);
    void take([...(e.dataTransfer?.files ?? [])]);
  };

  return (
    <section
      class={`results-panel${over ? ' drop-over' : ''}`}
      data-testid="results-panel"
      onDragOver={onDragOver}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <h2>A study's results</h2>
      <p class="results-hint">
        Drop a <code>results.json</code> here, or choose one (several at once for a study): the file
        that <code>bnlab run &lt;experiment&gt;</code> writes in its run directory, <code>bnlab study</code> in
        each experiment's. Its findings and figures appear below, drawn from the same Vega-Lite specs as the
        reports. Nothing leaves this page.
      </p>
      <input
        type="file"
        accept=".json,application/json"
        multiple
        data-testid="results-file"
        aria-label="Choose results.json files"
        onChange={onChange}
      />
      {state.loading && <p role="status">Reading…</p>}
      {state.problems.length > 0 && (
        <div class="results-error" role="alert" data-testid="results-error">
          {state.problems.map((p, i) => (
            <p key={`${i}:${p.file}`}>
              <strong>{p.file}</strong>: {p.problem}
            </p>
          ))}
        </div>
      )}
      {state.runs.map((r, i) => (
        <RunView key={`${i}:${r.file}`} run={r} />
      ))}
    </section>
  );
}

/** One run: heading, claim and context, meta line, findings, figures, skipped figures, metrics table. */
function RunView({ run }: { run: LoadedRun }) {
  const res = run.results;
  const m = res.meta;
  const seeds = new Set(res.trials.map((t) => t.seed)).size;
  const diverged = res.trials.filter((t) => t.diverged).length;
  return (
    <article class="results-run" data-experiment={res.experiment}>
      <h3>
        {res.experiment} — {run.info.title}
      </h3>
      <p>
        <strong>Claim tested:</strong> {run.info.claim}
      </p>
      <p class="results-context">
        <strong>What later work says:</strong> {run.info.context}
      </p>
      <p class="results-meta">
        {run.file} · {res.trials.length} trials ({seeds} seed{seeds === 1 ? '' : 's'}, {diverged} diverged) · dataset {m.dataset}
        {' '}· backend {m.backend} · bnlab {m.version}
        {m.startedAt ? ` · ${m.startedAt} → ${m.finishedAt}` : ''}
        <br />
        Reproduce: <code>{run.command}</code>
      </p>
      {run.notes.map((n) => (
        <p class="results-note" key={n}>
          {n}
        </p>
      ))}
      <h4>Findings</h4>
      <ul class="results-findings" data-testid="results-findings">
        {res.findings.length === 0 && <li class="results-note">This run recorded no findings.</li>}
        {res.findings.map((f, i) => (
          <FindingItem key={`${i}:${f.id}`} f={f} />
        ))}
      </ul>
      <h4>Figures</h4>
      <div class="results-figures" data-testid="results-figures">
        {run.figures.map((f) => (
          <VegaFigure key={f.id} experiment={res.experiment} fig={f} />
        ))}
      </div>
      {run.skipped.map((s) => (
        <p class="results-note" key={s.id}>
          Figure skipped — <strong>{s.title}</strong>: {s.reason}.
        </p>
      ))}
      <details>
        <summary>All metrics (mean ± 95% CI over seeds)</summary>
        <div class="results-table">
          <table>
            <thead>
              <tr>
                {run.table.header.map((h) => (
                  <th key={h}>{h}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {run.table.rows.map((row, i) => (
                <tr key={i}>
                  {row.map((c, j) => (
                    <td key={j}>{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </article>
  );
}

/** A finding as the report shows it: verdict badge, claim, the sentence with its numbers. */
function FindingItem({ f }: { f: Finding }) {
  return (
    <li data-verdict={f.verdict}>
      <span class="verdict" style={{ background: VERDICT_COLORS[f.verdict] ?? '#616161' }}>
        {f.verdict}
      </span>
      <strong>{f.claim}</strong>
      <br />
      {f.text}
    </li>
  );
}

/** One figure, drawn by vega-embed after mount and freed on unmount; a drawing failure is shown in its place. */
function VegaFigure({ experiment, fig }: { experiment: string; fig: PageFigure }) {
  const host = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let free: (() => void) | null = null;
    let gone = false;
    drawSpec(host.current!, fig.spec).then(
      (f) => (gone ? f() : (free = f)),
      (err: unknown) => !gone && setFailed((err as Error).message ?? String(err)),
    );
    return () => {
      gone = true;
      free?.();
    };
  }, [fig]);
  return (
    <figure class="results-figure" data-figure={`${experiment}/${fig.id}`} aria-label={`${fig.title}. ${fig.caption}`}>
      <div ref={host} />
      {failed && (
        <p class="results-note">
          Could not draw <strong>{fig.title}</strong>: {failed}
        </p>
      )}
    </figure>
  );
}
