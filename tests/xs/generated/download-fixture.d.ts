/* Written by tests/sim-download.test.ts (writeDownloadFixture) before the XS download suite runs. */

export declare const fixture: {
	ca: string;
	cert: string;
	key: string;
	/** The firmware server, and the fault proxy in front of it. */
	port: number;
	proxyPort: number;
	/** As a job document gives them. */
	host: string;
	path: string;
	size: number;
	sha256: string;
};
