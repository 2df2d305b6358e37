// The training worker's entry: wires the page's messages to a Session and fetches the digits asset from its own origin.
// The page creates it with: new Worker(new URL('./worker/index.ts', import.meta.url), { type: 'module' }).
import digitsUrl from 'virtual:bnlab-digits';
import { decodeDigits, type DigitsAsset } from '../data/digits-format.js';
import type { FromWorker, ToWorker } from '../protocol.js';
import { Session } from './session.js';

const ctx = self as unknown as DedicatedWorkerGlobalScope;

/** Fetches the digits built into the site, refusing any other origin (the page fetches nothing from outside). */
async function loadDigits(): Promise<DigitsAsset> {
  const url = new URL(digitsUrl, ctx.location.href);
  if (url.origin !== ctx.location.origin) throw new Error(`the digits asset must come from this site, not ${url.origin}`);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load the digits from ${url.pathname}: HTTP ${res.status} ${res.statusText}`);
  return decodeDigits(await res.arrayBuffer());
}

const session = new Session((m: FromWorker) => ctx.postMessage(m), loadDigits);
ctx.onmessage = (e: MessageEvent<ToWorker>) => void session.handle(e.data);
