import { StringDecoder } from "node:string_decoder";

export type Write = typeof process.stdout.write;

/**
 * A replacement for a stream's `write` that hands text to `take`: Buffers are decoded as
 * UTF-8 (a character split across chunks is kept whole), the callback is called, and it
 * reports success. `rest()` returns a partial character still held by the decoder.
 */
export function textWrite(take: (text: string) => void): { write: Write; rest(): string } {
  const decoder = new StringDecoder("utf8");
  const write = function (chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    take(typeof chunk === "string" ? chunk : decoder.write(Buffer.from(chunk as Uint8Array)));
    const done = typeof encoding === "function" ? encoding : cb;
    if (typeof done === "function") process.nextTick(done as () => void);
    return true;
  } as Write;
  return { write, rest: () => decoder.end() };
}
