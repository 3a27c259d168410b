/* Written by tests/sim-connect-failure.test.ts before the XS connect-failure suite runs. */

export declare const fixture: {
	port: number;
	closedPort: number;
	deviceId: string;
	ca: string;
	cert: string;
	key: string;
	rogueCa: string;
	rogueCert: string;
	rogueKey: string;
};
