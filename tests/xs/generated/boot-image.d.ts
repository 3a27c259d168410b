/* Written by tests/dfu-boot.test.ts: the APP image made by npm run image from tests/xs/fixtures/boot-app. */

export declare const image: Uint8Array;
