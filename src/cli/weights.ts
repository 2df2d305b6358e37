// `bnlab inspect`, `bnlab export` and `bnlab eval`: weights files and saved trial models from the command line.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { inspectOnnx, inspectSafetensors, GAMMA_NEAR_ZERO, VAR_NEAR_ZERO, type BnSummary, type Inspection } from '../io/inspect.js';
import { saveOnnx } from '../io/onnx-file.js';
import { WeightsFileError } from '../io/errors.js';
import { loadTrialModel } from '../lab/saved-model.js';
import { evalBothModes, trialDataset } from '../lab/saved-eval.js';
import { positiveIntFlag } from '../lab/runner/config.js';
import { fmtShape } from '../tensor/errors.js';

const num = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));
const rng = (r: [number, number] | null) => (r ? `[${num(r[0])}, ${num(r[1])}]` : 'none');
const list = (cs: number[]) => (cs.length > 8 ? `${cs.slice(0, 8).join(', ')}, ...` : cs.join(', '));

function bnLines(b: BnSummary): string[] {
  const count = b.numBatchesTracked === null ? '' : `, ${b.numBatchesTracked} batches tracked`;
  const out = [
    `  ${b.layer}: ${b.channels} channels${count}`,
    `    running mean ${rng(b.mean)}, running var ${rng(b.variance)}, gamma ${rng(b.gamma)}, beta ${rng(b.beta)}`,
    `    largest eval gain |gamma|/sqrt(var+eps) = ${num(b.maxGain)} (eps ${num(b.eps)})`,
  ];
  if (b.gammaNearZero.length) {
    out.push(`    warning: ${b.gammaNearZero.length} channel(s) with |gamma| < ${GAMMA_NEAR_ZERO} (output is beta alone): ${list(b.gammaNearZero)}`);
  }
  if (b.varNearZero.length) {
    out.push(
      `    warning: ${b.varNearZero.length} channel(s) with running var < ${VAR_NEAR_ZERO}: ` +
        `eval divides by sqrt(var+eps), an input off the running mean blows up: ${list(b.varNearZero)}`,
    );
  }
  return out;
}

/** The report `bnlab inspect` prints. */
export function formatInspection(r: Inspection): string {
  const lines = [`${r.file}: ${r.format}, ${r.tensors.length} tensors`];
  for (const [k, v] of Object.entries(r.info)) lines.push(`  ${k}: ${v}`);
  const w = Math.max(6, ...r.tensors.map((t) => t.name.length));
  lines.push('', `${'tensor'.padEnd(w)}  dtype  ${'shape'.padEnd(12)}  min .. max (mean)`);
  for (const t of r.tensors) {
    lines.push(`${t.name.padEnd(w)}  ${t.dtype.padEnd(5)}  ${fmtShape(t.shape).padEnd(12)}  ${num(t.min)} .. ${num(t.max)} (${num(t.mean)})`);
  }
  lines.push(
    '',
    r.bn.length ? `BatchNorm layers (${r.bn.length}):` : 'no BatchNorm layers (no running_mean / running_var, no BatchNormalization node)',
  );
  for (const b of r.bn) lines.push(...bnLines(b));
  return lines.join('\n');
}

/** Registers `bnlab inspect <file>`. */
export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .argument('<file>', 'a .safetensors or .onnx file')
    .description('print the tensors of a weights file (names, dtypes, shapes, ranges) and each BatchNorm layer\'s statistics, with warnings')
    .action((file: string) => {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new WeightsFileError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      const r = file.toLowerCase().endsWith('.onnx') ? inspectOnnx(bytes, file) : inspectSafetensors(bytes, file);
      console.log(formatInspection(r));
    });
}

/** Registers `bnlab export <trial dir> --onnx out.onnx [--fold-bn]`. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .argument('<trial-dir>', 'a trial folder with model.json + model.safetensors (bnlab run ... --save-weights)')
    .requiredOption('--onnx <file>', 'write an ONNX inference graph here')
    .option('--fold-bn', 'fold each BatchNorm into the Linear before it first')
    .option('--opset <n>', 'ONNX opset, 15 to 21 (default 17)')
    .description('export a saved trial model to ONNX (eval mode: BatchNorm uses its running statistics)')
    .action((dir: string, f: { onnx: string; foldBn?: boolean; opset?: string }) => {
      const { model, info } = loadTrialModel(dir);
      const opset = positiveIntFlag('--opset', f.opset);
      const n = saveOnnx(model, f.onnx, { inputShape: [1, ...info.inputShape], foldBn: f.foldBn ?? false, opset });
      const folded = f.foldBn ? ', BatchNorm folded' : '';
      console.log(`${f.onnx}: ${n} bytes, input [N, ${info.inputShape.join(', ')}]${folded} (${info.experiment} ${info.trial})`);
    });
}

/** Registers `bnlab eval <trial dir>`. */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .argument('<trial-dir>', 'a trial folder with model.json + model.safetensors (bnlab run ... --save-weights)')
    .option('--dataset <name>', 'dataset to evaluate on (default: the one the trial trained on)')
    .option('--data <dir>', 'directory with MNIST-format IDX files')
    .option('--batch-size <n>', 'batch size of the train-mode pass (batch statistics)', '60')
    .description(
      'evaluate saved weights on the test split in eval mode (running statistics) and with BatchNorm in train mode (batch statistics), ' +
        'and print the gap',
    )
    .action((dir: string, f: { dataset?: string; data?: string; batchSize: string }) => {
      const { model, info } = loadTrialModel(dir);
      const ds = trialDataset(dir, info, { dataset: f.dataset, dataDir: f.data });
      const { eval: ev, train: tr, batchSize: B } = evalBothModes(model, ds, positiveIntFlag('--batch-size', f.batchSize));
      const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
      console.log(`${info.experiment} ${info.trial} on ${ds.name} test (${ds.test.n} samples)`);
      console.log(`  eval mode  (running statistics):          accuracy ${pct(ev.accuracy)}, loss ${num(ev.loss)}`);
      console.log(
        `  train mode (batch statistics, batch ${B}): accuracy ${pct(tr.accuracy)}, loss ${num(tr.loss)} ` +
          `(${Math.floor(ds.test.n / B)} whole batches; dropout off)`,
      );
      console.log(`  gap (train - eval): accuracy ${((tr.accuracy - ev.accuracy) * 100).toFixed(2)} points, loss ${num(tr.loss - ev.loss)}`);
    });
}
