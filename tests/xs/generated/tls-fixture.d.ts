/* Written by tests/support/xs-fixtures.ts (startTlsFixture) before the XS TLS suite runs. */

export declare const fixture: {
	port: number;
	deviceId: string;
	ca: string;
	cert: string;
	key: string;
	rogueCa: string;
	rogueCert: string;
	rogueKey: string;
	closedPort: number;
};
