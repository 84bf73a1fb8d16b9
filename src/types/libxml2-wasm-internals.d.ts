// Declarations for the libxml2-wasm 0.7.2 internals the hot path uses (src/edxml/tree.ts and
// src/edxml/libxml.ts). The library marks them @internal, so its published types omit them.
import type { XmlNode } from 'libxml2-wasm';

declare module 'libxml2-wasm/lib/libxml2.mjs' {
  /** Adds a JS function to the WebAssembly function table; returns its index. */
  export function addFunction(fn: (...args: number[]) => number, signature: string): number;
  export function xmlOutputBufferCreateIO(handler: { write(chunk: Uint8Array): number; close(): boolean }): number;
}

declare module 'libxml2-wasm/lib/nodes.mjs' {
  /** The library's wrapper for a node pointer. */
  export function createNode(nodePtr: number): XmlNode;
}
