/* Written by tests/support/xs-fixtures.ts (writeDeviceFixture): the APP image whose firmware build is the device suite. */

export declare const appImage: Uint8Array;
