/* Written by tests/support/xs-fixtures.ts (writeDeviceFixture) before the XS device suite runs. */

export declare const fixture: {
	appImage: string;
	appVersion: string;
	modemImage: string;
	modemSha256: string;
};
