// The engine calls of a warm run, made through the context's FFI on raw value pointers instead of
// quickjs-emscripten's handles: its callFunction copies the arguments into a fresh malloc'd array
// (an Array map, an Int32Array, a Uint8Array view and a Lifetime per call), newString measures and
// copies the text with a JavaScript UTF-8 loop, getString scans for the NUL in JavaScript, and every
// value comes back wrapped in a Lifetime and a result object. Here the argument array and the string
// buffer are allocated once per instance, text goes in with TextEncoder.encodeInto and comes out with
// TextDecoder, and a value is a number (a JSValue pointer) that its taker frees exactly once with
// free(). A value that leaves this class as a handle (an error) is wrapped by the context's own memory.
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";

/** A JSValue pointer in the module's memory (0: none). */
export type ValuePtr = number;

/** The parts of quickjs-emscripten-core's context and module these calls use (protected there). */
interface Ffi {
  QTS_Call(ctx: number, fn: number, self: number, argc: number, argv: number): number;
  QTS_ResolveException(ctx: number, value: number): number;
  QTS_FreeValuePointer(ctx: number, value: number): void;
  QTS_NewString(ctx: number, chars: number): number;
  QTS_GetString(ctx: number, value: number): number;
  QTS_FreeCString(ctx: number, chars: number): void;
  QTS_PromiseState(ctx: number, value: number): number;
  QTS_PromiseResult(ctx: number, value: number): number;
  QTS_IsJobPending(rt: number): number;
  QTS_GetUndefined(): number;
  QTS_DupValuePointer(ctx: number, value: number): number;
  QTS_Typeof(ctx: number, value: number): number;
}
interface EmscriptenModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}
interface ContextInternals {
  ffi: Ffi;
  module: EmscriptenModule;
  ctx: { value: number };
  memory: { heapValueHandle(ptr: number): QuickJSHandle };
}

/** Promise states as QTS_PromiseState reports them (negative: not a promise). */
export const PROMISE_PENDING = 0;
export const PROMISE_FULFILLED = 1;
export const PROMISE_REJECTED = 2;

const MAX_ARGS = 4;
/** Text up to this many bytes goes through the instance's own buffer; longer text gets a buffer for the call. */
const KEPT_BUFFER_BYTES = 16 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class EngineCalls {
  private readonly ffi: Ffi;
  private readonly module: EmscriptenModule;
  private readonly memory: ContextInternals["memory"];
  private readonly ctx: number;
  private readonly rt: number;
  readonly undefined: number;
  /** MAX_ARGS JSValue pointers: the argv of every call. */
  private argv = 0;
  private text = 0;
  private textBytes = 0;
  /** Views of the module's memory, replaced when it grows (a new ArrayBuffer). */
  private u8: Uint8Array;
  private i32: Int32Array;
  /** The error of the last call that threw (a pointer its taker frees), else 0. */
  error: ValuePtr = 0;

  constructor(context: QuickJSContext, runtime: QuickJSRuntime) {
    const internals = context as unknown as ContextInternals;
    this.ffi = internals.ffi;
    this.module = internals.module;
    this.memory = internals.memory;
    this.ctx = internals.ctx.value;
    this.rt = (runtime as unknown as { rt: { value: number } }).rt.value;
    this.undefined = this.ffi.QTS_GetUndefined();
    this.u8 = this.module.HEAPU8;
    this.i32 = new Int32Array(this.u8.buffer);
    this.argv = this.module._malloc(MAX_ARGS * 4);
    if (this.argv === 0) throw new Error("out of memory");
  }

  private views(): void {
    const u8 = this.module.HEAPU8;
    if (u8 !== this.u8) {
      this.u8 = u8;
      this.i32 = new Int32Array(u8.buffer);
    }
  }

  /**
   * Calls fn with `this` undefined and up to four arguments (JSValue pointers, borrowed): its result
   * (the caller frees it), or 0 with `error` set (the caller frees that).
   */
  call(fn: ValuePtr, argc: number, a0 = 0, a1 = 0, a2 = 0, a3 = 0): ValuePtr {
    this.views();
    const base = this.argv >> 2;
    const i32 = this.i32;
    i32[base] = a0;
    i32[base + 1] = a1;
    i32[base + 2] = a2;
    i32[base + 3] = a3;
    const ffi = this.ffi;
    const result = ffi.QTS_Call(this.ctx, fn, this.undefined, argc, this.argv);
    const error = ffi.QTS_ResolveException(this.ctx, result);
    if (error) {
      ffi.QTS_FreeValuePointer(this.ctx, result);
      this.error = error;
      return 0;
    }
    this.error = 0;
    return result;
  }

  /** A new guest string (the caller frees it). `text` must be well-formed and hold no NUL (boundary-text.ts). */
  newString(text: string): ValuePtr {
    const length = text.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; ASCII (the usual ctx) exactly one.
    let chars = this.reserve(length + 1);
    let written = this.encode(text, chars, chars === this.text ? this.textBytes : length + 1);
    if (written < 0) {
      if (chars !== this.text) this.module._free(chars);
      chars = this.reserve(length * 3 + 1);
      written = this.encode(text, chars, chars === this.text ? this.textBytes : length * 3 + 1);
    }
    this.u8[chars + written] = 0;
    const value = this.ffi.QTS_NewString(this.ctx, chars);
    if (chars !== this.text) this.module._free(chars);
    return value;
  }

  /** Encodes into [at, at + room): the bytes written, or -1 when the text did not fit. */
  private encode(text: string, at: number, room: number): number {
    this.views();
    const { read, written } = encoder.encodeInto(text, this.u8.subarray(at, at + room - 1));
    return read === text.length ? written : -1;
  }

  /** A buffer of at least `bytes`: the instance's own (grown as needed up to KEPT_BUFFER_BYTES), else one for this call. */
  private reserve(bytes: number): number {
    if (bytes <= this.textBytes) return this.text;
    if (bytes > KEPT_BUFFER_BYTES) {
      const once = this.module._malloc(bytes);
      if (once === 0) throw new Error("out of memory");
      return once;
    }
    const size = Math.min(KEPT_BUFFER_BYTES, Math.max(bytes, 1024, this.textBytes * 2));
    const grown = this.module._malloc(size);
    if (grown === 0) throw new Error("out of memory");
    if (this.text) this.module._free(this.text);
    this.text = grown;
    this.textBytes = size;
    return grown;
  }

  /** The value as text (String(value) in the guest), exactly as the guest sent it when it is ASCII. */
  getString(value: ValuePtr): string {
    const chars = this.ffi.QTS_GetString(this.ctx, value);
    this.views();
    const end = this.u8.indexOf(0, chars);
    const text = decoder.decode(this.u8.subarray(chars, end));
    this.ffi.QTS_FreeCString(this.ctx, chars);
    return text;
  }

  /** Whether the value is a string (typeof, read from the engine's answer without decoding it). */
  isString(value: ValuePtr): boolean {
    const name = this.ffi.QTS_Typeof(this.ctx, value);
    this.views();
    // "string" is the only type name that starts with "st" ("symbol" shares the "s").
    const string = this.u8[name] === 0x73 && this.u8[name + 1] === 0x74;
    this.module._free(name);
    return string;
  }

  /** Whether the value is undefined. */
  isUndefined(value: ValuePtr): boolean {
    const name = this.ffi.QTS_Typeof(this.ctx, value);
    this.views();
    const undefinedType = this.u8[name] === 0x75;
    this.module._free(name);
    return undefinedType;
  }

  /** QTS_PromiseState: PROMISE_PENDING, _FULFILLED, _REJECTED, or negative for a value that is no promise. */
  promiseState(value: ValuePtr): number {
    return this.ffi.QTS_PromiseState(this.ctx, value);
  }

  /** The settled promise's value or reason (the caller frees it). */
  promiseResult(value: ValuePtr): ValuePtr {
    return this.ffi.QTS_PromiseResult(this.ctx, value);
  }

  hasPendingJob(): boolean {
    return this.ffi.QTS_IsJobPending(this.rt) !== 0;
  }

  /** A second reference to the value (the caller frees it). */
  dup(value: ValuePtr): ValuePtr {
    return this.ffi.QTS_DupValuePointer(this.ctx, value);
  }

  free(value: ValuePtr): void {
    this.ffi.QTS_FreeValuePointer(this.ctx, value);
  }

  /** Hands a value over to the handle world: the handle owns it from now on. */
  handle(value: ValuePtr): QuickJSHandle {
    return this.memory.heapValueHandle(value);
  }

  /** The buffers this object holds (a template's memory snapshot keeps them; see restoreState). */
  saveState(): { readonly text: number; readonly textBytes: number } {
    return { text: this.text, textBytes: this.textBytes };
  }

  /** After the module's memory was restored to a snapshot: the buffers are those held then. */
  restoreState(state: { readonly text: number; readonly textBytes: number }): void {
    this.text = state.text;
    this.textBytes = state.textBytes;
    this.error = 0;
  }

  /** Frees the argument array and the text buffer (before the context and runtime go). */
  dispose(): void {
    if (this.argv) this.module._free(this.argv);
    if (this.text) this.module._free(this.text);
    this.argv = 0;
    this.text = 0;
    this.textBytes = 0;
  }
}
