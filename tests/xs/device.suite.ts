/*
 * Key-value storage and the DFU target inside XS, over one state directory in
 * several starts of the host (the phase is the suite's argument). A start that
 * ends in DfuTarget.reboot() exits with status 75 and the next phase is the
 * next start. The APP images the suite writes carry the suite itself as their
 * firmware build, so the host runs it from the applied image:
 *
 *   first    storage; damaged, incomplete and resumed images; the app image 1.2.3+45 scheduled
 *   second   1.2.3+45 runs unconfirmed and is not confirmed
 *   third    reverted: the app on the command line is back; 1.2.3+45 scheduled again
 *   fourth   1.2.3+45 runs unconfirmed and is confirmed; a BOOT image scheduled
 *   fifth    S1 is active; a MODEM image applied at once, another scheduled
 *   sixth    the scheduled MODEM image is in AT+CGMR; a BOOT image scheduled, which the
 *            wrapper damages in the slot before the next start
 *   seventh  the damaged update failed; nothing else changed
 */

import { DfuTarget, type DfuTargetOptions } from "../../modules/dfu/target.js";
import { firmwareVersion } from "../../modules/modem/at.js";
import { errnoName } from "../../modules/platform/errno.js";
import { KeyValueStore } from "../../modules/storage/key-value.js";
import { fixture } from "./generated/device-fixture.js";
import { assert, fromHex, run, simArgs, test } from "./harness.js";

const phase = simArgs()[0];

/** What `body` throws: "RangeError" and "TypeError" for bad arguments, the errno's name for a failure of the binding. */
function failure(body: () => unknown): string {
	try {
		body();
	}
	catch (error) {
		if (error instanceof RangeError || error instanceof TypeError) return error.name;
		const errno = (error as { errno?: unknown }).errno;
		return typeof errno === "number" ? errnoName(errno) : `no errno: ${String(error)}`;
	}
	return "nothing thrown";
}

/** Writes a whole image in fragments, verifies it and schedules it; returns the version verify() gave. */
function install(options: DfuTargetOptions, image: Uint8Array): string {
	const target = new DfuTarget(options);
	target.erase();
	for (let at = 0; at < image.length; at += 1700) target.write(image.subarray(at, at + 1700));
	const version = target.verify();
	target.schedule();
	target.close();
	return version;
}

/** The APP images are generated with the suite inside; only the app on the command line has them (an image cannot hold itself). */
async function appImages(): Promise<Uint8Array> {
	return (await import("./generated/device-app-image.js")).appImage;
}

const appSize = fixture.appImageSize;

if (phase === "first") {
	test("key-value: write, read, list and delete; integers as 4 bytes", () => {
		const store = new KeyValueStore({ path: "nrf_cloud" });
		assert.equal(store.read("p_sesh"), undefined);
		store.writeInteger("p_sesh", 1);
		store.write("fota_job", '{"jobId":"abc"}');
		store.write("scratch", new Uint8Array([1, 2, 3]));
		assert.equal(store.readInteger("p_sesh"), 1);
		assert.deepEqual(new Uint8Array(store.read("scratch")!), new Uint8Array([1, 2, 3]));
		assert.deepEqual(store.keys(), ["fota_job", "p_sesh", "scratch"]);
		assert.equal(store.delete("scratch"), true);
		assert.equal(store.delete("scratch"), false);
		assert.equal(failure(() => store.read("../escape")), "RangeError");
		assert.equal(failure(() => store.write("", "x")), "RangeError");
		assert.equal(failure(() => store.write("big", new Uint8Array(5000))), "RangeError");
		assert.equal(failure(() => store.readInteger("fota_job")), "RangeError");
		assert.equal(failure(() => new KeyValueStore({ path: "a/b" })), "RangeError");
		store.close();
		assert.equal(failure(() => store.read("p_sesh")), "EACCES", "a closed store");
	});

	test("DFU: the app on the command line runs confirmed, from no slot, with S0 active", () => {
		assert.deepEqual(DfuTarget.runningImage(), { version: "", confirmed: true });
		assert.equal(DfuTarget.activeBootSlot(), 0);
		assert.equal(DfuTarget.lastUpdate(), undefined, "nothing applied yet");
		DfuTarget.confirm();
		assert.deepEqual(DfuTarget.runningImage(), { version: "", confirmed: true }, "confirm() without an image changes nothing");
		assert.equal(failure(() => DfuTarget.applyModemUpdate()), "EACCES", "no modem update scheduled");
	});

	test("DFU: bad options are TypeError and RangeError", () => {
		assert.equal(failure(() => new DfuTarget(undefined as unknown as DfuTargetOptions)), "TypeError");
		assert.equal(failure(() => new DfuTarget({ type: "app", size: 10_000_000 })), "RangeError");
		assert.equal(failure(() => new DfuTarget({ type: "app", size: 1.5 })), "RangeError");
		assert.equal(failure(() => new DfuTarget({ type: "app", size: "10" as unknown as number })), "TypeError");
		assert.equal(failure(() => new DfuTarget({ type: "radio" as "app", size: 10 })), "RangeError");
		assert.equal(failure(() => new DfuTarget({ type: "app", size: 10, resume: 1 as unknown as boolean })), "TypeError");
		assert.equal(failure(() => new DfuTarget({ type: "app", size: 10, sha256: "abc" })), "RangeError");
		// A FOTA job document carries no SHA-256: a modem target opens without one (its format is still checked).
		assert.equal(failure(() => new DfuTarget({ type: "modem", size: 10 }).close()), "nothing thrown", "a modem image without a SHA-256");
		const target = new DfuTarget({ type: "app", size: 10 });
		target.erase();
		assert.equal(failure(() => target.write("bytes" as unknown as Uint8Array)), "TypeError");
		target.close();
		target.close();
		assert.equal(failure(() => target.erase()), "EACCES", "a closed target");
	});

	test("DFU: a damaged, incomplete or unbootable image fails the integrity check", async () => {
		const image = await appImages();
		const damaged = image.slice();
		damaged[100] = damaged[100]! ^ 0xFF;
		const target = new DfuTarget({ type: "app", size: image.length });
		assert.equal(failure(() => target.write(image)), "EACCES", "writing before the erase");
		target.erase();
		target.write(damaged.subarray(0, 500));
		assert.equal(failure(() => target.verify()), "ENODATA", "500 bytes of the image");
		target.write(damaged.subarray(500));
		assert.equal(failure(() => target.verify()), "EINVAL", "a damaged image");
		assert.equal(failure(() => target.schedule()), "EACCES", "scheduling an image that did not verify");
		assert.equal(failure(() => target.write(new Uint8Array(1))), "RangeError", "nothing past the announced size");
		target.close();
		const notMcuboot = new DfuTarget({ type: "app", size: 64 });
		notMcuboot.erase();
		notMcuboot.write(new Uint8Array(64));
		assert.equal(failure(() => notMcuboot.verify()), "EINVAL", "not an MCUboot image");
		notMcuboot.close();
		const notFirmware = fromHex(fixture.notFirmwareImage);
		const unbootable = new DfuTarget({ type: "app", size: notFirmware.length });
		unbootable.erase();
		unbootable.write(notFirmware);
		assert.equal(failure(() => unbootable.verify()), "EINVAL", "an MCUboot image whose payload is no firmware archive");
		unbootable.close();
		const asBoot = new DfuTarget({ type: "boot", size: notFirmware.length });
		asBoot.erase();
		asBoot.write(notFirmware);
		assert.equal(asBoot.verify(), "9.9.9+9", "a bootloader payload is not a firmware archive");
		asBoot.cancel();
		asBoot.close();
	});

	test("DFU: a modem image is checked against its SHA-256 and names its firmware", () => {
		const image = fromHex(fixture.modemImage);
		const target = new DfuTarget({ type: "modem", size: image.length, sha256: fixture.modemSha256 });
		target.erase();
		target.write(image);
		assert.equal(target.verify(), "mfw_nrf9160_1.3.1");
		target.cancel();
		target.close();
		const wrong = new DfuTarget({ type: "modem", size: image.length, sha256: "00".repeat(32) });
		wrong.erase();
		wrong.write(image);
		assert.equal(failure(() => wrong.verify()), "EINVAL", "a modem image with another SHA-256");
		wrong.close();
		const nameless = fromHex(fixture.namelessModemImage);
		const unnamed = new DfuTarget({ type: "modem", size: nameless.length, sha256: fixture.namelessModemSha256 });
		unnamed.erase();
		unnamed.write(nameless);
		assert.equal(failure(() => unnamed.verify()), "EINVAL", "a modem image that names no firmware");
		unnamed.cancel();
		unnamed.close();
	});

	test("DFU: resume keeps a partial image of the same type and size and restores written", async () => {
		const image = await appImages();
		const half = 4000;
		const first = new DfuTarget({ type: "app", size: image.length });
		first.erase();
		first.write(image.subarray(0, half));
		first.close();
		const other = new DfuTarget({ type: "app", size: image.length - 1, resume: true });
		assert.equal(other.written, 0, "another size is another image");
		assert.equal(failure(() => other.write(image.subarray(0, 10))), "EACCES", "a fresh image needs the erase");
		other.close();
		const modem = new DfuTarget({ type: "modem", size: image.length, sha256: fixture.modemSha256, resume: true });
		assert.equal(modem.written, 0, "another type is another image");
		modem.close();
		const fresh = new DfuTarget({ type: "app", size: image.length });
		assert.equal(fresh.written, 0, "without resume nothing is kept");
		fresh.close();
		const progress: number[] = [];
		const resumed = new DfuTarget({ type: "app", size: image.length, resume: true, onProgress: (written) => progress.push(written) });
		assert.equal(resumed.written, half);
		for (let at = half; at < image.length; at += 1700) resumed.write(image.subarray(at, at + 1700));
		assert.equal(progress[0], half + 1700);
		assert.equal(resumed.verify(), fixture.appVersion);
		resumed.cancel();
		resumed.close();
		const cancelled = new DfuTarget({ type: "app", size: image.length, resume: true });
		assert.equal(cancelled.written, 0, "cancel() forgets the slot");
		cancelled.close();
	});

	test("DFU: an application image is written with progress, verified, scheduled, and the device reboots", async () => {
		const image = await appImages();
		const progress: number[] = [];
		const target = new DfuTarget({ type: "app", size: image.length, onProgress: (written, size) => progress.push(Math.floor((written * 100) / size)) });
		target.erase();
		for (let at = 0; at < image.length; at += 1000) target.write(image.subarray(at, at + 1000));
		assert.equal(target.written, image.length);
		assert.equal(progress[progress.length - 1], 100);
		assert.ok(progress.length > 3);
		assert.equal(target.verify(), fixture.appVersion);
		target.schedule();
		target.close();
		assert.equal(DfuTarget.lastUpdate(), undefined, "nothing applied before the reboot");
		assert.deepEqual(DfuTarget.runningImage(), { version: "", confirmed: true }, "the old image runs until the reboot");
	});
}
else if (phase === "second") {
	test("key-value values survived the restart", () => {
		const store = new KeyValueStore({ path: "nrf_cloud" });
		assert.equal(store.readInteger("p_sesh"), 1);
		assert.equal(String.fromCharCode(...new Uint8Array(store.read("fota_job")!)), '{"jobId":"abc"}');
		assert.deepEqual(store.keys(), ["fota_job", "p_sesh"]);
	});

	test("the app image scheduled before the reboot runs, unconfirmed", () => {
		assert.deepEqual(DfuTarget.lastUpdate(), { type: "app", size: appSize, version: fixture.appVersion, status: "applied", confirmed: false });
		assert.deepEqual(DfuTarget.runningImage(), { version: fixture.appVersion, confirmed: false });
	});
}
else if (phase === "third") {
	test("the image that was not confirmed is reverted: the app on the command line runs again", () => {
		const result = DfuTarget.lastUpdate();
		assert.equal(result?.status, "reverted");
		assert.deepEqual({ ...result, reason: undefined }, { type: "app", size: appSize, version: fixture.appVersion, status: "reverted", confirmed: false });
		assert.deepEqual(DfuTarget.runningImage(), { version: "", confirmed: true });
		DfuTarget.clearLastUpdate();
		assert.equal(DfuTarget.lastUpdate(), undefined);
	});

	test("the app image is scheduled again", async () => {
		assert.equal(install({ type: "app", size: appSize }, await appImages()), fixture.appVersion);
	});
}
else if (phase === "fourth") {
	test("confirm() keeps the running image; twice is the same", () => {
		assert.deepEqual(DfuTarget.runningImage(), { version: fixture.appVersion, confirmed: false });
		DfuTarget.confirm();
		assert.deepEqual(DfuTarget.runningImage(), { version: fixture.appVersion, confirmed: true });
		assert.deepEqual(DfuTarget.lastUpdate(), { type: "app", size: appSize, version: fixture.appVersion, status: "applied", confirmed: true });
		DfuTarget.confirm();
		assert.deepEqual(DfuTarget.runningImage(), { version: fixture.appVersion, confirmed: true });
	});

	test("a BOOT image is written for the inactive slot and scheduled", () => {
		assert.equal(DfuTarget.activeBootSlot(), 0);
		assert.equal(install({ type: "boot", size: fromHex(fixture.bootImage).length }, fromHex(fixture.bootImage)), fixture.bootVersion);
		assert.equal(DfuTarget.activeBootSlot(), 0, "S0 stays active until the reboot");
	});
}
else if (phase === "fifth") {
	test("the BOOT update made S1 active; the confirmed app image still runs", () => {
		assert.equal(DfuTarget.activeBootSlot(), 1);
		assert.deepEqual(DfuTarget.lastUpdate(), { type: "boot", size: fromHex(fixture.bootImage).length, version: fixture.bootVersion, status: "applied", confirmed: true });
		assert.deepEqual(DfuTarget.runningImage(), { version: fixture.appVersion, confirmed: true });
	});

	test("a MODEM update applied without a reboot changes AT+CGMR at once", () => {
		assert.equal(firmwareVersion(), "mfw_nrf9160_1.3.0");
		const image = fromHex(fixture.modemImage);
		assert.equal(install({ type: "modem", size: image.length, sha256: fixture.modemSha256 }, image), "mfw_nrf9160_1.3.1");
		assert.equal(firmwareVersion(), "mfw_nrf9160_1.3.0", "scheduling alone changes nothing");
		assert.deepEqual(DfuTarget.applyModemUpdate(), { type: "modem", size: image.length, version: "mfw_nrf9160_1.3.1", status: "applied", confirmed: true });
		assert.equal(firmwareVersion(), "mfw_nrf9160_1.3.1");
		assert.equal(failure(() => DfuTarget.applyModemUpdate()), "EACCES", "nothing scheduled any more");
	});

	test("a MODEM update is scheduled for the next start", () => {
		const image = fromHex(fixture.modemImage2);
		assert.equal(install({ type: "modem", size: image.length, sha256: fixture.modemSha2562 }, image), "mfw_nrf9160_1.3.2");
		assert.equal(firmwareVersion(), "mfw_nrf9160_1.3.1");
	});
}
else if (phase === "sixth") {
	test("the MODEM update scheduled before the reboot is in AT+CGMR", () => {
		assert.equal(firmwareVersion(), "mfw_nrf9160_1.3.2");
		assert.deepEqual(DfuTarget.lastUpdate(), { type: "modem", size: fromHex(fixture.modemImage2).length, version: "mfw_nrf9160_1.3.2", status: "applied", confirmed: true });
	});

	test("a BOOT image is scheduled once more", () => {
		assert.equal(install({ type: "boot", size: fromHex(fixture.bootImage).length }, fromHex(fixture.bootImage)), fixture.bootVersion);
	});
}
else {
	test("an update damaged in the slot after it was scheduled fails at the start; the old images stay", () => {
		const result = DfuTarget.lastUpdate();
		assert.equal(result?.status, "failed");
		assert.equal(result?.type, "boot");
		assert.ok(typeof result?.reason === "string" && result.reason.includes("SHA-256"), `the reason names the check: ${result?.reason}`);
		assert.equal(DfuTarget.activeBootSlot(), 1);
		assert.deepEqual(DfuTarget.runningImage(), { version: fixture.appVersion, confirmed: true });
		assert.equal(firmwareVersion(), "mfw_nrf9160_1.3.2");
	});
}

const REBOOTING = ["first", "second", "third", "fourth", "fifth", "sixth"];
await run(`device (${phase ?? "no phase"})`, REBOOTING.includes(phase ?? "") ? () => DfuTarget.reboot() : undefined);
