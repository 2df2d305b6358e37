// `bnlab demo`: placeholder until the training loop lands.
import type { Command } from 'commander';
export function registerDemo(program: Command): void {
  program.command('demo').description('train a small MLP on a synthetic set and print accuracy').action(() => {
    console.log('demo: coming');
  });
}
