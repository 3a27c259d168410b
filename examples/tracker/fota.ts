/*
 * The tracker's part in FOTA: what the shadow says about it (its UI cards,
 * the FOTA types it takes, its application version), and FOTA_DONE: reboot
 * into the new image, or apply a MODEM update without a reboot when
 * config.modemFotaWithoutReboot is set (nrf_modem_lib re-initialised, then
 * modemFotaCompleted).
 */

import config from "mc/config";
import { DfuTarget } from "dfu/target";
import { FotaType, fotaTypes, modemFotaCompleted } from "nrf-cloud/device";

/** The shadow's device section: UI cards, fota_v2, the running image's version (config.appVersion when not run from a slot). */
export function deviceReport(print: (line: string) => void): string {
	const serviceInfo: Record<string, string[]> = { ui: ["GPS", "FLIP"] };
	const types = fotaTypes();
	if (types.length > 0) serviceInfo.fota_v2 = types;
	const appVersion = DfuTarget.runningImage().version || config.appVersion;
	print(`app: version ${appVersion}`);
	return JSON.stringify({ state: { reported: { device: { serviceInfo, deviceInfo: { appVersion } } } } });
}

/** FOTA_DONE of `type`: true when the firmware must stop and reboot (done by `reboot`), false when the update was applied in place. */
export function fotaDone(type: number, print: (line: string) => void): boolean {
	if (type === FotaType.MODEM && config.modemFotaWithoutReboot) {
		let applied = false;
		try {
			const result = DfuTarget.applyModemUpdate();
			print(`app: modem update ${result.status}, modem firmware ${result.version}`);
			applied = result.status === "applied";
		}
		catch (error) {
			print(`app: the modem update could not be applied: ${error instanceof Error ? error.message : String(error)}`);
		}
		const result = modemFotaCompleted(applied);
		if (result !== 0) print(`app: modem FOTA completed returned ${result}`);
		return false;
	}
	return true;
}

export function reboot(): void {
	DfuTarget.reboot();
}
