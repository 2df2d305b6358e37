// The command that reproduces a run, from its recorded command line (no Node modules: the browser lab shows it too).
import type { Results } from '../lab/results.js';

/** Flags that change where output goes or how progress shows, not what is computed; `true` = takes a value. */
const COSMETIC_FLAGS: Record<string, boolean> = { '--out': true, '--progress': true, '--no-report': false };
/** Study-only flags, dropped when a study's command is turned into one experiment's `bnlab run`. */
const STUDY_FLAGS: Record<string, boolean> = { '--only': true, '--resume': true };

/**
 * The command that reproduces a run, as a user types it: the recorded command line without the node binary
 * and script path and without output/progress flags; a study's command becomes `bnlab run <experiment>` with
 * the study's flags (a study passes them to every experiment).
 */
export function commandOf(run: { results: Results }): string {
  const exp = run.results.experiment;
  const c = run.results.meta.command.trim();
  if (!c) return `bnlab run ${exp}`;
  const m = /^(?:\S*node\S*\s+)?\S*(?:main\.js|bnlab)\s+(.*)$/.exec(c);
  if (!m) return c;
  const words = m[1].split(/\s+/);
  const study = words[0] === 'study';
  const drop = { ...COSMETIC_FLAGS, ...(study ? STUDY_FLAGS : {}) };
  const kept: string[] = [];
  for (let i = study ? 1 : 0; i < words.length; i++) {
    const [flag, inline] = words[i].split('=', 2);
    if (flag in drop) {
      if (drop[flag] && inline === undefined) i++;
      continue;
    }
    kept.push(words[i]);
  }
  return study ? ['bnlab', 'run', exp, ...kept].join(' ') : ['bnlab', ...kept].join(' ');
}
