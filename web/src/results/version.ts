// The bnlab version this page was built from, to tell results.json files written by another version apart.
import pkg from '../../../package.json' with { type: 'json' };

/** package.json's version at build time (e.g. "0.1.0"). */
export const PAGE_VERSION: string = pkg.version;
