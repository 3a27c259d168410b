/*
 * Validation after the reboot, inside init (docs/protocol.md §7.4 step 4):
 * what the DFU target says the start did with the scheduled image becomes the
 * stored job's validation state. An application or bootloader image that runs
 * is confirmed here, so MCUboot keeps it; one that was reverted or failed to
 * apply is a failure; a start that tells nothing is UNKNOWN ("not validated").
 */

import { FotaType, FotaValidate } from "../nrf-cloud/constants.js";
import type { DfuTargetClass } from "./collaborators.js";
import { IMAGE_TYPES } from "./update.js";

export interface Validation {
	/** FotaValidate.PASS, FAIL or UNKNOWN. */
	validate: number;
	/** Why, for the log. */
	reason: string;
	/** The new modem firmware needs another start to run (v1.6 reboots a second time). */
	rebootAgain: boolean;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export function validateUpdate(type: number, target: DfuTargetClass): Validation {
	let last;
	try {
		last = target.lastUpdate();
	}
	catch (error) {
		return { validate: FotaValidate.UNKNOWN, reason: `the DFU target cannot say: ${describe(error)}`, rebootAgain: false };
	}
	if (last === undefined || last.type !== IMAGE_TYPES[type])
		return { validate: FotaValidate.UNKNOWN, reason: "the start applied no update of this type", rebootAgain: false };
	if (last.status !== "applied")
		return { validate: FotaValidate.FAIL, reason: `the update was ${last.status}${last.reason ? `: ${last.reason}` : ""}`, rebootAgain: false };
	if (type === FotaType.MODEM) return { validate: FotaValidate.PASS, reason: `modem firmware ${last.version} applied`, rebootAgain: true };
	if (type === FotaType.BOOTLOADER) return { validate: FotaValidate.PASS, reason: `bootloader ${last.version} active`, rebootAgain: false };
	try {
		if (!target.runningImage().confirmed) target.confirm();
	}
	catch (error) {
		return { validate: FotaValidate.FAIL, reason: `confirming the image failed: ${describe(error)}`, rebootAgain: false };
	}
	return { validate: FotaValidate.PASS, reason: `image ${last.version} runs and is confirmed`, rebootAgain: false };
}
