/* Written by tests/sim-device.test.ts before the XS device suite runs. */

export declare const fixture: {
	appImage: string;
	appVersion: string;
	modemImage: string;
	modemSha256: string;
};
