// Small structured-code helpers for the SGEMM's WebAssembly functions: numbered locals, loops, conditionals.
import {
  BLOCK, br, brIf, ELSE, END, F32, I32, I32_ADD, I32_GE_U, I32_LT_U, I32_MUL, I32_SHL, i32Const, IF, localGet, localSet, LOOP, SELECT, V128,
  type WasmFunction,
} from './asm.js';

/** A function's parameters and locals: locals are numbered after the parameters in the order they are asked for. */
export class Frame {
  private readonly types: number[] = [];
  constructor(private readonly params: number[]) {}

  private local(type: number): number {
    this.types.push(type);
    return this.params.length + this.types.length - 1;
  }

  i32(): number {
    return this.local(I32);
  }

  f32(): number {
    return this.local(F32);
  }

  v128(): number {
    return this.local(V128);
  }

  /** The function, its locals declared as runs of one type ([count, type], as buildModule wants them). */
  fn(name: string, body: number[]): WasmFunction {
    const locals: number[][] = [];
    for (const t of this.types) {
      const last = locals[locals.length - 1];
      if (last !== undefined && last[1] === t && last[0] < 127) last[0]++;
      else locals.push([1, t]);
    }
    return { name, params: this.params, locals, body: [...body, ...END] };
  }
}

export const get = localGet;
/** local x = the value `code` leaves. */
export const set = (x: number, code: number[]) => [...code, ...localSet(x)];
/** local x += the value `code` leaves (i32). */
export const inc = (x: number, code: number[]) => [...localGet(x), ...code, ...I32_ADD, ...localSet(x)];
/** local x += v (i32 constant). */
export const incBy = (x: number, v: number) => inc(x, i32Const(v));
/** a + b, a * b for code leaving i32s. */
export const plus = (a: number[], b: number[]) => [...a, ...b, ...I32_ADD];
export const times = (a: number[], b: number[]) => [...a, ...b, ...I32_MUL];
/** min(a, b) unsigned; a and b are evaluated twice, so keep them to local.get and constants. */
export const minU = (a: number[], b: number[]) => [...a, ...b, ...a, ...b, ...I32_LT_U, ...SELECT];

/** Bytes of the i32 element count in local x (x * 4). */
export const floats = (x: number) => [...localGet(x), ...i32Const(2), ...I32_SHL];

/** cond ? then : otherwise, as an if with an f32 result (each branch leaves one f32). */
export const ifF32 = (cond: number[], then: number[], otherwise: number[]) => [...cond, 0x04, F32, ...then, ...ELSE, ...otherwise, ...END];

/** if (cond) { then } else { otherwise }. */
export const ifElse = (cond: number[], then: number[], otherwise: number[] = []) =>
  otherwise.length === 0 ? [...cond, ...IF, ...then, ...END] : [...cond, ...IF, ...then, ...ELSE, ...otherwise, ...END];

/**
 * for (local i = from; i < lim; i += step) { body }, unsigned. `lim` and `step` are code re-run each iteration;
 * at the top level of `body`, br(1) leaves the loop.
 */
export const forRange = (i: number, from: number[], lim: number[], step: number[], body: number[]) => [
  ...set(i, from),
  ...BLOCK, ...LOOP,
  ...localGet(i), ...lim, ...I32_GE_U, ...brIf(1),
  ...body,
  ...inc(i, step),
  ...br(0), ...END, ...END,
];

/** do { body } while (local p < local end) (unsigned): for loops known to run at least once. */
export const doWhileBelow = (p: number, end: number, body: number[]) => [
  ...LOOP, ...body, ...localGet(p), ...localGet(end), ...I32_LT_U, ...brIf(0), ...END,
];

/** while (local p < local end) { body }: the test once before a do-while. */
export const whileBelow = (p: number, end: number, body: number[]) =>
  ifElse([...localGet(p), ...localGet(end), ...I32_LT_U], doWhileBelow(p, end, body));
