// Is a parsed results.json one this page's bnlab can draw: a known experiment, a config its schema accepts, the same version?
import type { ZodIssue } from 'zod';
import type { ExperimentInfo } from '../../../src/report/model.js';
import { ResultsFileError } from './errors.js';
import type { ParsedResults } from './parse.js';

/** What the compatibility check found out about a run besides "yes". */
export interface Compatibility {
  /** Title, claim tested and what later work says, as the reports show them. */
  info: ExperimentInfo;
  /** Things the reader should know that do not stop the figures (e.g. another bnlab version wrote the file). */
  notes: string[];
}

/**
 * Checks a parsed run against the experiments this page was built with. Throws ResultsFileError when the
 * experiment is unknown or its config does not validate against the experiment's schema (the file was
 * written by another version of the experiment, whose figures would be built from the wrong fields).
 * The registry is imported lazily: it pulls in the training code, which the page needs only here.
 */
export async function checkCompatible(p: ParsedResults, pageVersion: string): Promise<Compatibility> {
  const { EXPERIMENTS, EXPERIMENT_NAMES, isExperimentName } = await import('../../../src/lab/registry.js');
  const { experiment, meta } = p.results;
  const written = `written by bnlab ${meta.version}, this page is bnlab ${pageVersion}`;
  if (!isExperimentName(experiment)) {
    throw new ResultsFileError(p.file, `it holds results of an experiment named '${experiment}', which this page does not know (${written})`,
      `results of one of ${EXPERIMENT_NAMES.join(', ')}`);
  }
  const exp = EXPERIMENTS[experiment];
  const r = exp.schema.safeParse(p.rawConfig);
  if (!r.success) {
    const known = Object.keys(exp.presets.quick);
    const problems = r.error.issues.slice(0, 4).map((i) => issueText(i, known));
    const more = r.error.issues.length > 4 ? `; and ${r.error.issues.length - 4} more` : '';
    throw new ResultsFileError(
      p.file,
      `its '${experiment}' config does not match the '${experiment}' experiment of this page (${problems.join('; ')}${more}): it comes from ` +
        `another version of the experiment (${written})`,
      `a results.json of '${experiment}' written by bnlab ${pageVersion} (run it again with this version's \`bnlab run ${experiment}\`)`,
    );
  }
  const notes = meta.version === pageVersion ? [] : [`This file was ${written}; its config still matches, so the figures are drawn, but ` +
    `numbers may differ from a run with this version.`];
  return { info: { title: exp.title, claim: exp.claim, context: exp.context }, notes };
}

/** One schema problem in words: unknown keys with the known ones, or the field and what was wrong with it. */
function issueText(i: ZodIssue, known: string[]): string {
  if (i.code === 'unrecognized_keys') {
    return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${k}'`).join(', ')} (known keys: ${known.join(', ')})`;
  }
  const where = i.path.length ? i.path.join('.') : 'config';
  return `${where}: ${i.message}`;
}
