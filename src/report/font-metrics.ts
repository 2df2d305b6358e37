// Font facts read from TrueType files: advance widths (hmtx + cmap) so Vega lays out text for the font the PNG uses, and family names.
import { readFileSync } from 'node:fs';

/** Advance widths of one font: width(text) in ems. */
export interface FontMetrics {
  /** Width of `text` in ems (multiply by the font size in px); unknown characters count as the font's average. */
  width(text: string): number;
}

/**
 * Reads a TrueType/OpenType font's horizontal metrics. Returns null when the file is not a font with a
 * Unicode BMP cmap (format 4), e.g. a collection or a CFF-only quirk; callers then fall back to an estimate.
 */
export function readFontMetrics(buf: Buffer): FontMetrics | null {
  try {
    const tables = new Map<string, number>();
    const numTables = buf.readUInt16BE(4);
    for (let i = 0; i < numTables; i++) {
      const rec = 12 + 16 * i;
      tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
    }
    const head = tables.get('head');
    const hhea = tables.get('hhea');
    const hmtx = tables.get('hmtx');
    const cmap = tables.get('cmap');
    if (head === undefined || hhea === undefined || hmtx === undefined || cmap === undefined) return null;
    const unitsPerEm = buf.readUInt16BE(head + 18);
    const nMetrics = buf.readUInt16BE(hhea + 34);
    const advance = (glyph: number) => buf.readUInt16BE(hmtx + 4 * Math.min(glyph, nMetrics - 1));
    const sub = bmpSubtable(buf, cmap);
    if (sub === null) return null;
    const glyphOf = format4(buf, sub);
    let total = 0;
    for (let g = 0; g < nMetrics; g++) total += advance(g);
    const avg = total / nMetrics / unitsPerEm;
    const cache = new Map<number, number>();
    const em = (cp: number): number => {
      let w = cache.get(cp);
      if (w === undefined) {
        const g = glyphOf(cp);
        w = g === 0 ? avg : advance(g) / unitsPerEm;
        cache.set(cp, w);
      }
      return w;
    };
    return {
      width(text: string): number {
        let w = 0;
        for (const ch of text) w += em(ch.codePointAt(0)!);
        return w;
      },
    };
  } catch {
    return null;
  }
}

/** Offset of the Windows Unicode BMP (3,1) or Unicode (0,x) cmap subtable in format 4, or null. */
function bmpSubtable(buf: Buffer, cmap: number): number | null {
  const n = buf.readUInt16BE(cmap + 2);
  let found: number | null = null;
  for (let i = 0; i < n; i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = buf.readUInt16BE(rec);
    const encoding = buf.readUInt16BE(rec + 2);
    const off = cmap + buf.readUInt32BE(rec + 4);
    if (buf.readUInt16BE(off) !== 4) continue;
    if (platform === 3 && encoding === 1) return off;
    if (platform === 0) found = off;
  }
  return found;
}

/** Glyph lookup of a cmap format 4 subtable (segments of code points with a delta or a glyph array). */
function format4(buf: Buffer, off: number): (cp: number) => number {
  const segs = buf.readUInt16BE(off + 6) / 2;
  const ends = off + 14;
  const starts = ends + 2 * segs + 2;
  const deltas = starts + 2 * segs;
  const ranges = deltas + 2 * segs;
  return (cp: number) => {
    if (cp > 0xffff) return 0;
    for (let i = 0; i < segs; i++) {
      if (buf.readUInt16BE(ends + 2 * i) < cp) continue;
      const start = buf.readUInt16BE(starts + 2 * i);
      if (start > cp) return 0;
      const delta = buf.readInt16BE(deltas + 2 * i);
      const ro = buf.readUInt16BE(ranges + 2 * i);
      if (ro === 0) return (cp + delta) & 0xffff;
      const g = buf.readUInt16BE(ranges + 2 * i + ro + 2 * (cp - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
}

/** Metrics of a font file, or null when it cannot be read or parsed. */
export function fontFileMetrics(path: string): FontMetrics | null {
  try {
    return readFontMetrics(readFileSync(path));
  } catch {
    return null;
  }
}

/** The font's family name (name table, nameID 1; Windows UTF-16 or Mac Roman record), or null. */
export function fontFamilyName(buf: Buffer): string | null {
  try {
    const numTables = buf.readUInt16BE(4);
    let name = -1;
    for (let i = 0; i < numTables; i++) {
      const rec = 12 + 16 * i;
      if (buf.toString('latin1', rec, rec + 4) === 'name') name = buf.readUInt32BE(rec + 8);
    }
    if (name < 0) return null;
    const count = buf.readUInt16BE(name + 2);
    const strings = name + buf.readUInt16BE(name + 4);
    let mac: string | null = null;
    for (let i = 0; i < count; i++) {
      const r = name + 6 + 12 * i;
      if (buf.readUInt16BE(r + 6) !== 1) continue;
      const platform = buf.readUInt16BE(r);
      const len = buf.readUInt16BE(r + 8);
      const at = strings + buf.readUInt16BE(r + 10);
      if (platform === 3 || platform === 0) return Buffer.from(buf.subarray(at, at + len)).swap16().toString('utf16le');
      if (platform === 1) mac = buf.toString('latin1', at, at + len);
    }
    return mac;
  } catch {
    return null;
  }
}
