#!/usr/bin/env node
// The bnlab command: parses arguments and hands off to the library; one file per subcommand.
import { Command, CommanderError } from 'commander';
import { BnlabError } from '../tensor/errors.js';
import { QueueError } from '../queue/connection.js';
import { registerInfo } from './info.js';
import { registerDemo } from './demo.js';
import { registerDatasets } from './datasets.js';
import { registerList, registerRun, registerStudy } from './run.js';
import { registerReport } from './report.js';
import { registerEval, registerExport, registerInspect } from './weights.js';
import { registerWorker } from './worker.js';

const program = new Command();
program
  .name('bnlab')
  .description('Batch Normalization from scratch: a TypeScript training engine and a lab that measures what BN does.')
  .showHelpAfterError('(run bnlab --help for usage)')
  .exitOverride();

registerInfo(program);
registerDemo(program);
registerDatasets(program);
registerRun(program);
registerStudy(program);
registerList(program);
registerReport(program);
registerInspect(program);
registerExport(program);
registerEval(program);
registerWorker(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof BnlabError) {
    console.error(`bnlab: ${err.message}`);
    process.exitCode = 2;
    // A queue that failed for good (refused login, failed TLS check) can leave a Redis client's socket open that
    // reports the same failure once more after its listeners are gone: exit now instead of crashing on it.
    if (err instanceof QueueError) process.exit(2);
  } else {
    throw err;
  }
}
