/* Written by tests/support/xs-fixtures.ts (writeDeviceFixture) before the XS device suite runs. */

export declare const fixture: {
	/** Size and version of the APP image of device-app-image.js (the suite as its firmware build). */
	appImageSize: number;
	appVersion: string;
	/** An MCUboot image (version 9.9.9+9) whose payload is no firmware archive. */
	notFirmwareImage: string;
	bootImage: string;
	bootVersion: string;
	/** Modem images to mfw_nrf9160_1.3.1 and 1.3.2, and one that names no firmware. */
	modemImage: string;
	modemSha256: string;
	modemImage2: string;
	modemSha2562: string;
	namelessModemImage: string;
	namelessModemSha256: string;
};
