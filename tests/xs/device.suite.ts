/*
 * Key-value storage and the DFU target inside XS, in two runs over one state
 * directory: "first" writes and schedules an update then reboots (exit 75);
 * "second" finds the values and the applied update.
 */

import { DfuTarget } from "../../modules/dfu/target.js";
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

	test("DFU: a damaged or incomplete image fails the integrity check", () => {
		const image = fromHex(fixture.appImage);
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
		assert.equal(failure(() => new DfuTarget({ type: "app", size: 10_000_000 })), "RangeError");
		assert.equal(failure(() => new DfuTarget({ type: "radio" as "app", size: 10 })), "RangeError");
		assert.equal(failure(() => new DfuTarget({ type: "modem", size: 10 })), "TypeError", "a modem image without its SHA-256");
	});

	test("DFU: a modem image is checked against its SHA-256", () => {
		const image = fromHex(fixture.modemImage);
		const target = new DfuTarget({ type: "modem", size: image.length, sha256: fixture.modemSha256 });
		target.erase();
		target.write(image);
		assert.equal(target.verify(), "");
		target.cancel();
		target.close();
		const wrong = new DfuTarget({ type: "modem", size: image.length, sha256: "00".repeat(32) });
		wrong.erase();
		wrong.write(image);
		assert.equal(failure(() => wrong.verify()), "EINVAL", "a modem image with another SHA-256");
		wrong.close();
	});

	test("DFU: an application image is written with progress, verified, scheduled, and the device reboots", () => {
		const image = fromHex(fixture.appImage);
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
		assert.equal(DfuTarget.lastUpdate(), undefined, "nothing applied yet");
	});
}
else {
	test("key-value values survived the restart", () => {
		const store = new KeyValueStore({ path: "nrf_cloud" });
		assert.equal(store.readInteger("p_sesh"), 1);
		assert.equal(String.fromCharCode(...new Uint8Array(store.read("fota_job")!)), '{"jobId":"abc"}');
		assert.deepEqual(store.keys(), ["fota_job", "p_sesh"]);
	});

	test("the update scheduled before the reboot was applied", () => {
		const result = DfuTarget.lastUpdate();
		assert.deepEqual(result, { type: "app", size: fromHex(fixture.appImage).length, version: fixture.appVersion, status: "applied" });
		DfuTarget.clearLastUpdate();
		assert.equal(DfuTarget.lastUpdate(), undefined);
	});
}

if (phase === "first") await run("device (first start)", () => DfuTarget.reboot());
else await run("device (after reboot)");
