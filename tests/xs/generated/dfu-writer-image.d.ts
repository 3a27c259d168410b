/* Written by tests/dfu-kill.test.ts: the APP image the writer firmware downloads. */

export declare const image: Uint8Array;
