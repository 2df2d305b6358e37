// TEST HELPER: a minimal PNG decoder (8-bit RGB/RGBA, non-interlaced — what resvg writes) to check images without a dependency.
import { inflateSync } from 'node:zlib';

/** A decoded image: RGBA bytes, row-major. */
export interface Decoded {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Width and height from the IHDR chunk (checks the signature, decodes nothing). */
export function pngSize(buf: Buffer): { width: number; height: number } {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a' || buf.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Decodes a PNG; throws on anything but 8-bit RGB(A)/gray(+alpha), non-interlaced. */
export function decodePng(buf: Buffer): Decoded {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG (bad signature)');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const color = data[9];
      if (depth !== 8 || data[12] !== 0) throw new Error(`unsupported PNG: depth ${depth}, interlace ${data[12]}`);
      channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[color] ?? 0;
      if (!channels) throw new Error(`unsupported PNG color type ${color}`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  const prev = new Uint8Array(stride);
  const cur = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let v = line[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const s = x * channels;
      if (channels >= 3) out.set([cur[s], cur[s + 1], cur[s + 2], channels === 4 ? cur[s + 3] : 255], o);
      else out.set([cur[s], cur[s], cur[s], channels === 2 ? cur[s + 1] : 255], o);
    }
    prev.set(cur);
  }
  return { width, height, rgba: out };
}

/** Fraction of pixels darker than `level` (0-255, on any channel): ink on a white background. */
export function inkFraction(img: Decoded, level = 200): number {
  let ink = 0;
  for (let i = 0; i < img.rgba.length; i += 4) if (Math.min(img.rgba[i], img.rgba[i + 1], img.rgba[i + 2]) < level) ink++;
  return ink / (img.width * img.height);
}
