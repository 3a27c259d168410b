/*
 * The FOTA room (modules/fota) in the library under Node, against the scripted
 * nRF Cloud, with a fake DFU target and download client (tests/support/fota-fakes):
 * the job state machine from the job document to the reboot, the status
 * updates of docs/protocol.md §7.4 byte for byte, the stored job and download
 * record, validation inside init after the reboot, resume, refusals, failures.
 */

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { mcubootImage } from "../tools/lib/mcuboot-image.js";
import { decodeStoredJob, encodeStoredJob } from "../modules/nrf-cloud/codec.js";
import { EventType, FotaValidate, MessageId } from "../modules/nrf-cloud/constants.js";
import { MemorySettings } from "../modules/nrf-cloud/settings.js";
import { DOWNLOAD_KEY, decodeDownloadRecord, encodeDownloadRecord } from "../modules/fota/records.js";
import { splitHost } from "../modules/fota/update.js";
import type { NrfCloudConfig } from "../modules/nrf-cloud/config.js";
import { ASSOCIATED_SHADOW, CloudPeer, DEVICE_ID, DeviceUnderTest, PREFIX, publishes, text } from "./support/nrf-cloud-peer.js";
import type { PeerConnection } from "./support/scripted-broker.js";
import { fakeFlash, fakeFotaPlatform, fakeServer, fakeStart, type FakeFlash, type FakeServer } from "./support/fota-fakes.js";
import { until } from "./support/until.js";

let peer: CloudPeer;
before(async () => { peer = await CloudPeer.start(); });
after(async () => { await peer.stop(); });

const JOBS_RCV = `${PREFIX}${DEVICE_ID}/jobs/rcv`;
const JOBS_UPDATE = `${PREFIX}${DEVICE_ID}/jobs/update`;
const HOST = "firmware.example.com";

function image(version: [number, number, number, number], bodySize: number, fill = 0x5A): Buffer {
	return mcubootImage(new Uint8Array(bodySize).fill(fill), { major: version[0], minor: version[1], revision: version[2], build: version[3] });
}

interface Rig {
	device: DeviceUnderTest;
	connection: PeerConnection;
	logs: string[];
}

/** A device with the fakes, initialized (validating what `flash` says), connected to READY. */
async function ready(flash: FakeFlash, server: FakeServer, settings = new MemorySettings(), config: NrfCloudConfig = {}): Promise<Rig> {
	peer.policy = { connack: { returnCode: 0, sessionPresent: false }, shadow: ASSOCIATED_SHADOW, ackPublishes: true };
	const logs: string[] = [];
	const device = new DeviceUnderTest(peer, { log: (line) => logs.push(line), ...config }, { settings, fota: fakeFotaPlatform(flash, server) });
	assert.equal(device.init(), 0);
	const index = peer.broker.connections.length;
	await device.library.connect();
	const connection = await peer.connection(index);
	await device.waitFor(EventType.READY);
	await until(() => publishes(connection).some((p) => p.packetId === MessageId.FOTA_REQUEST), { what: "the job request" });
	return { device, connection, logs };
}

async function stop(rig: Rig): Promise<void> {
	rig.device.library.disconnect();
	await rig.device.waitFor(EventType.TRANSPORT_DISCONNECTED);
}

function updates(connection: PeerConnection): string[] {
	return publishes(connection).filter((p) => p.topic === JOBS_UPDATE).map((p) => text(p.payload));
}

function sendJob(rig: Rig, document: unknown[]): void {
	peer.publish(rig.connection, JOBS_RCV, JSON.stringify(document));
}

async function updatesUntil(rig: Rig, last: string): Promise<string[]> {
	await until(() => updates(rig.connection).includes(last), { what: last, detail: () => JSON.stringify(updates(rig.connection)) + "\n" + rig.logs.join("\n") });
	return updates(rig.connection);
}

const states = (logs: string[], id: string) => logs.filter((line) => line.startsWith(`FOTA job ${id}: `) && /: [a-z]+$/.test(line)).map((line) => line.slice(`FOTA job ${id}: `.length));

test("an APP job: every fragment straight into the slot, progress in 10 % steps with 100 once, IN_PROGRESS, FOTA_DONE on its PUBACK; after the reboot, confirmed and SUCCEEDED", async () => {
	const flash = fakeFlash("1.0.0+0");
	const server = fakeServer();
	const app = image([1, 1, 0, 7], 17000 - 72);
	server.files.set("v1/fw/app.bin", app);
	const settings = new MemorySettings();
	const rig = await ready(flash, server, settings);
	sendJob(rig, ["job-app", 0, app.length, HOST, "v1/fw/app.bin"]);
	sendJob(rig, ["job-app", 0, app.length, HOST, "v1/fw/app.bin"]);
	const done = await rig.device.waitFor(EventType.FOTA_DONE);
	assert.deepEqual([...done.data!], [0, 0, 0, 0], "FOTA_DONE carries the FOTA type, 4 bytes");
	const sent = updates(rig.connection);
	assert.deepEqual(sent, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => `["job-app",7,${p}]`).concat(['["job-app",1,""]']));
	assert.ok(publishes(rig.connection).filter((p) => p.topic === JOBS_UPDATE).every((p) => p.packetId === MessageId.FOTA_UPDATE && p.qos === 1));
	// The repeated document started nothing: one download, one run.
	assert.equal(server.requests.length, 1);
	assert.equal(server.requests[0]!.fragmentSize, 1700);
	assert.equal(server.requests[0]!.host, HOST);
	assert.ok(flash.largestWrite <= 1700, `largest write ${flash.largestWrite}`);
	assert.ok(Buffer.from(flash.slot!).equals(app));
	assert.equal(flash.scheduled?.version, "1.1.0+7");
	assert.deepEqual(decodeStoredJob(settings.read("fota/job")), { validate: FotaValidate.PENDING, type: 0, id: "job-app" });
	assert.equal(settings.read(DOWNLOAD_KEY), undefined, "the download record is gone once the job is stored");
	assert.deepEqual(states(rig.logs, "job-app"), ["received", "downloading", "downloaded", "pending", "rebooting"]);
	await stop(rig);

	// The reboot: the bootloader runs the new image unconfirmed; init validates it.
	fakeStart(flash);
	settings.write("p_sesh", new Uint8Array([1, 0, 0, 0]));
	const after = await ready(flash, server, settings);
	assert.equal(flash.confirms, 1);
	assert.deepEqual(flash.running, { version: "1.1.0+7", confirmed: true });
	assert.equal(flash.last, undefined, "the DFU result is cleared once stored");
	assert.deepEqual(await updatesUntil(after, '["job-app",3,""]'), ['["job-app",3,""]']);
	await until(() => decodeStoredJob(settings.read("fota/job"))?.validate === FotaValidate.DONE, { what: "the cleared record" });
	assert.deepEqual(states(after.logs, "job-app"), ["validating", "reporting", "cleared"]);
	// The same job delivered again after its result: not started again.
	sendJob(after, ["job-app", 0, app.length, HOST, "v1/fw/app.bin"]);
	sendJob(after, ["probe", 3, 1, HOST, "p"]);
	await until(() => after.logs.some((line) => /does not parse/.test(line)), { what: "the probe" });
	assert.equal(server.requests.length, 1);
	await stop(after);
});

test("progressPercentIncrement 0 reports only 0 and 100; 25 reports quarters; fotaFragmentSize sets the range size", async () => {
	for (const [increment, expected] of [[0, [0, 100]], [25, [0, 25, 50, 75, 100]]] as const) {
		const flash = fakeFlash();
		const server = fakeServer();
		const app = image([2, 0, 0, 0], 12000 - 72);
		server.files.set("a.bin", app);
		const rig = await ready(flash, server, new MemorySettings(), { progressPercentIncrement: increment, fotaFragmentSize: 300 });
		sendJob(rig, [`inc-${increment}`, 0, app.length, HOST, "a.bin"]);
		await rig.device.waitFor(EventType.FOTA_DONE);
		assert.deepEqual(updates(rig.connection), [...expected.map((p) => `["inc-${increment}",7,${p}]`), `["inc-${increment}",1,""]`]);
		assert.equal(server.requests[0]!.fragmentSize, 300);
		assert.equal(flash.largestWrite, 300);
		await stop(rig);
	}
});

test("a BOOT job with one file per slot fetches the file of the slot that is not running", async () => {
	for (const active of [0, 1] as const) {
		const flash = fakeFlash();
		flash.activeBootSlot = active;
		const server = fakeServer();
		const s0 = image([3, 0, 0, 0], 4000, 0x00);
		const s1 = image([3, 0, 0, 1], 4000, 0x11);
		server.files.set("boot/s0.bin", s0);
		server.files.set("boot/s1.bin", s1);
		const rig = await ready(flash, server);
		sendJob(rig, [`boot-${active}`, 2, s0.length, HOST, "boot/s0.bin boot/s1.bin"]);
		const done = await rig.device.waitFor(EventType.FOTA_DONE);
		assert.deepEqual([...done.data!], [2, 0, 0, 0]);
		assert.equal(server.requests[0]!.path, active === 0 ? "boot/s1.bin" : "boot/s0.bin");
		assert.ok(Buffer.from(flash.slot!).equals(active === 0 ? s1 : s0));
		await stop(rig);
	}
});

test("jobs this device cannot run are REJECTED without a download; documents that do not parse, BLE jobs and repeats send nothing", async () => {
	const flash = fakeFlash();
	const server = fakeServer();
	const rig = await ready(flash, server, new MemorySettings(), { fotaTypes: ["APP"] });
	assert.deepEqual(rig.device.library.fotaTypes, ["APP"]);
	sendJob(rig, ["no-modem", 1, 100, HOST, "m.bin"]);
	sendJob(rig, ["no-boot", 2, 100, HOST, "a.bin b.bin"]);
	sendJob(rig, ["size-0", 0, 0, HOST, "a.bin"]);
	sendJob(rig, ["size-frac", 0, 10.5, HOST, "a.bin"]);
	sendJob(rig, ["two-files", 0, 100, HOST, "a.bin b.bin"]);
	sendJob(rig, ["bad-type", 3, 100, HOST, "a.bin"]);
	sendJob(rig, ["no-host", 0, 100, "", "a.bin"]);
	sendJob(rig, ["no-modem", 1, 100, HOST, "m.bin"]);
	peer.publish(rig.connection, JOBS_RCV, "not json");
	sendJob(rig, ["last", 1, 100, HOST, "m.bin"]);
	const sent = await updatesUntil(rig, '["last",6,""]');
	assert.deepEqual(sent, ["no-modem", "no-boot", "size-0", "size-frac", "two-files", "last"].map((id) => `["${id}",6,""]`));
	assert.equal(server.requests.length, 0);
	assert.ok(rig.logs.some((line) => line === "FOTA job no-modem rejected: this device does not take MODEM updates"), rig.logs.join("\n"));
	await stop(rig);
});

test("a device without a DFU target advertises no FOTA types and rejects jobs", async () => {
	peer.policy = { connack: { returnCode: 0, sessionPresent: false }, shadow: ASSOCIATED_SHADOW, ackPublishes: true };
	const device = new DeviceUnderTest(peer);
	assert.deepEqual(device.library.fotaTypes, []);
	device.init();
	const index = peer.broker.connections.length;
	await device.library.connect();
	const connection = await peer.connection(index);
	await until(() => publishes(connection).some((p) => p.packetId === MessageId.FOTA_REQUEST), { what: "the job request" });
	peer.publish(connection, JOBS_RCV, JSON.stringify(["j", 0, 10, HOST, "a.bin"]));
	await until(() => updates(connection).includes('["j",6,""]'), { what: "REJECTED" });
	device.library.disconnect();
	await device.waitFor(EventType.TRANSPORT_DISCONNECTED);
});

test("damaged images end FAILED with nothing scheduled and no FOTA_DONE: wrong size, wrong hash, not MCUboot, a download that gives up", async () => {
	const good = image([1, 2, 0, 0], 5000);
	const badHash = Buffer.from(good);
	badHash[100] = badHash[100]! ^ 0xFF;
	const notMcuboot = Buffer.alloc(good.length, 0x42);
	const cases: Array<{ id: string; file: Buffer; size: number; failAt?: number; expected: string }> = [
		{ id: "wrong-size", file: good, size: good.length + 10, expected: '["wrong-size",2,"Error during download"]' },
		{ id: "wrong-hash", file: badHash, size: good.length, expected: '["wrong-hash",2,"Error during download"]' },
		{ id: "not-mcuboot", file: notMcuboot, size: good.length, expected: '["not-mcuboot",2,"FW file does not match specified FOTA type"]' },
		{ id: "link-gone", file: good, size: good.length, failAt: 3400, expected: '["link-gone",2,"Error during download"]' },
	];
	for (const c of cases) {
		const flash = fakeFlash();
		const server = fakeServer();
		server.files.set("f.bin", c.file);
		server.failAt = c.failAt;
		const settings = new MemorySettings();
		const rig = await ready(flash, server, settings);
		sendJob(rig, [c.id, 0, c.size, HOST, "f.bin"]);
		const sent = await updatesUntil(rig, c.expected);
		assert.equal(sent.at(-1), c.expected);
		assert.ok(!sent.some((u) => u.includes(",1,")), `no IN_PROGRESS: ${JSON.stringify(sent)}`);
		assert.equal(flash.scheduled, undefined);
		assert.equal(flash.slot, undefined, "the slot is forgotten");
		assert.equal(settings.read(DOWNLOAD_KEY), undefined);
		assert.equal(settings.read("fota/job"), undefined);
		assert.equal(rig.device.events.some((e) => e.type === EventType.FOTA_DONE), false);
		await until(() => states(rig.logs, c.id).includes("cleared"), { what: "cleared" });
		assert.deepEqual(states(rig.logs, c.id).slice(-2), ["reporting", "cleared"]);
		await stop(rig);
	}
});

test("a reboot in the middle of the download resumes from the stored offset when the job comes again", async () => {
	const flash = fakeFlash();
	const server = fakeServer();
	const app = image([1, 3, 0, 0], 17000 - 72);
	server.files.set("r.bin", app);
	server.stallAt = 8500;
	const settings = new MemorySettings();
	const first = await ready(flash, server, settings);
	sendJob(first, ["resume", 0, app.length, HOST, "r.bin"]);
	await until(() => decodeDownloadRecord(settings.read(DOWNLOAD_KEY))?.offset === 8500, { what: "the record at 8500" });
	assert.deepEqual(decodeDownloadRecord(settings.read(DOWNLOAD_KEY)), { id: "resume", type: 0, size: app.length, host: HOST, path: "r.bin", offset: 8500 });
	// The host dies: a new library instance on the same flash and settings.
	await stop(first);
	server.stallAt = undefined;
	const second = await ready(flash, server, settings);
	sendJob(second, ["resume", 0, app.length, HOST, "r.bin"]);
	await second.device.waitFor(EventType.FOTA_DONE);
	assert.equal(server.requests.length, 2);
	assert.equal(server.requests[1]!.offset, 8500);
	assert.ok(Buffer.from(flash.slot!).equals(app));
	assert.deepEqual(updates(second.connection), ["50", "60", "70", "80", "90", "100"].map((p) => `["resume",7,${p}]`).concat(['["resume",1,""]']));
	assert.ok(second.logs.includes("FOTA job resume: resuming at byte 8500 of 17000"));
	await stop(second);
});

test("a record of another job is dropped and that job starts from byte 0", async () => {
	const flash = fakeFlash();
	const server = fakeServer();
	const app = image([1, 4, 0, 0], 3000);
	server.files.set("n.bin", app);
	const settings = new MemorySettings();
	settings.write(DOWNLOAD_KEY, encodeDownloadRecord({ id: "old", type: 0, size: 999, host: HOST, path: "o.bin", offset: 500 }));
	const rig = await ready(flash, server, settings);
	sendJob(rig, ["new", 0, app.length, HOST, "n.bin"]);
	await rig.device.waitFor(EventType.FOTA_DONE);
	assert.equal(server.requests[0]!.offset, 0);
	assert.ok(rig.logs.includes("FOTA: dropping the unfinished download of job old"));
	await stop(rig);
});

test("an image that never confirms itself is reverted at the next start and reported FAILED", async () => {
	const flash = fakeFlash("1.0.0+0");
	const server = fakeServer();
	const app = image([9, 9, 9, 9], 2000);
	server.files.set("x.bin", app);
	const settings = new MemorySettings();
	const rig = await ready(flash, server, settings);
	sendJob(rig, ["revert", 0, app.length, HOST, "x.bin"]);
	await rig.device.waitFor(EventType.FOTA_DONE);
	await stop(rig);
	fakeStart(flash); // the new image runs and never confirms (its firmware has no FOTA)
	assert.deepEqual(flash.running, { version: "9.9.9+9", confirmed: false });
	fakeStart(flash); // so the next start reverts it
	assert.equal(flash.running.version, "1.0.0+0");
	const after = await ready(flash, server, settings);
	assert.deepEqual(await updatesUntil(after, '["revert",2,""]'), ['["revert",2,""]']);
	assert.equal(flash.confirms, 0);
	await stop(after);
});

test("stopped between storing the job and scheduling its image: no result is reported, the job goes on when it comes again", async () => {
	const flash = fakeFlash();
	const server = fakeServer();
	const app = image([1, 6, 0, 0], 3000);
	server.files.set("w.bin", app);
	const settings = new MemorySettings();
	// The slot is whole and the record says so; the job was stored PENDING; nothing was scheduled.
	const Target = fakeFotaPlatform(flash, server).target;
	const slot = new Target({ type: "app", size: app.length });
	slot.erase();
	slot.write(app);
	settings.write(DOWNLOAD_KEY, encodeDownloadRecord({ id: "window", type: 0, size: app.length, host: HOST, path: "w.bin", offset: app.length }));
	settings.write("fota/job", encodeStoredJob({ validate: FotaValidate.PENDING, type: 0, id: "window" }));
	const rig = await ready(flash, server, settings);
	assert.equal(settings.read("fota/job"), undefined);
	sendJob(rig, ["window", 0, app.length, HOST, "w.bin"]);
	await rig.device.waitFor(EventType.FOTA_DONE);
	assert.equal(server.requests.length, 0, "nothing to fetch");
	assert.deepEqual(updates(rig.connection), ['["window",7,100]', '["window",1,""]']);
	assert.equal(flash.scheduled?.version, "1.6.0+0");
	await stop(rig);
});

test("validation: a start that applied nothing is UNKNOWN, reported as not validated", async () => {
	const flash = fakeFlash();
	const settings = new MemorySettings();
	settings.write("fota/job", encodeStoredJob({ validate: FotaValidate.PENDING, type: 0, id: "lost" }));
	const rig = await ready(flash, fakeServer(), settings);
	assert.deepEqual(await updatesUntil(rig, '["lost",3,"FOTA update not validated"]'), ['["lost",3,"FOTA update not validated"]']);
	await stop(rig);
});

test("MODEM: FOTA_DONE carries type 1; modemFotaCompleted reports without a reboot, or the reboot path validates and reboots a second time", async () => {
	const delta = Buffer.alloc(6000, 0x33);
	{
		const flash = fakeFlash();
		const server = fakeServer();
		server.files.set("m.bin", delta);
		const settings = new MemorySettings();
		const rig = await ready(flash, server, settings);
		sendJob(rig, ["modem-a", 1, delta.length, HOST, "m.bin"]);
		const done = await rig.device.waitFor(EventType.FOTA_DONE);
		assert.deepEqual([...done.data!], [1, 0, 0, 0]);
		assert.equal(rig.device.library.modemFotaCompleted(true), 0);
		await updatesUntil(rig, '["modem-a",3,""]');
		await until(() => decodeStoredJob(settings.read("fota/job"))?.validate === FotaValidate.DONE, { what: "cleared" });
		assert.equal(flash.reboots, 0);
		await stop(rig);
	}
	{
		const flash = fakeFlash();
		const server = fakeServer();
		server.files.set("m.bin", delta);
		const settings = new MemorySettings();
		const rig = await ready(flash, server, settings);
		sendJob(rig, ["modem-b", 1, delta.length, HOST, "m.bin"]);
		await rig.device.waitFor(EventType.FOTA_DONE);
		await stop(rig);
		fakeStart(flash);
		const second = new DeviceUnderTest(peer, {}, { settings, fota: fakeFotaPlatform(flash, server) });
		assert.equal(second.init(), 0);
		assert.equal(flash.reboots, 1, "init reboots once more for the new modem firmware");
		assert.equal(decodeStoredJob(settings.read("fota/job"))?.validate, FotaValidate.PASS);
		const third = await ready(flash, server, settings);
		await updatesUntil(third, '["modem-b",3,""]');
		assert.equal(flash.reboots, 1);
		await stop(third);
	}
});

test("FOTA options are checked when the library is created", () => {
	const socket = () => { throw new Error("unused"); };
	const platform = (fota: unknown) => ({ socket, fota }) as never;
	assert.throws(() => new DeviceUnderTest(peer, { fotaFragmentSize: 127 }), RangeError);
	assert.throws(() => new DeviceUnderTest(peer, { fotaFragmentSize: 1701 }), RangeError);
	assert.throws(() => new DeviceUnderTest(peer, { progressPercentIncrement: 101 }), RangeError);
	assert.throws(() => new DeviceUnderTest(peer, { fotaTypes: ["APP", "SMP"] }), RangeError);
	assert.throws(() => new DeviceUnderTest(peer, { fotaTypes: "APP" as never }), TypeError);
	assert.deepEqual(new DeviceUnderTest(peer, { fotaTypes: ["BOOT", "APP", "APP"] }, { fota: fakeFotaPlatform(fakeFlash(), fakeServer()) }).library.fotaTypes, ["APP", "BOOT"]);
	assert.throws(() => new DeviceUnderTest(peer, {}, platform(() => {})), TypeError);
	assert.throws(() => new DeviceUnderTest(peer, {}, platform({ download: () => ({}), target: class {} })), /static reboot/);
});

test("job hosts: a bare name is HTTPS on 443; host:port and [v6]:port give the port", () => {
	assert.deepEqual(splitHost("firmware.nrfcloud.com"), { name: "firmware.nrfcloud.com", port: 443 });
	assert.deepEqual(splitHost("localhost:8443"), { name: "localhost", port: 8443 });
	assert.deepEqual(splitHost("[::1]:8443"), { name: "::1", port: 8443 });
	assert.deepEqual(splitHost("https://h.example/"), { name: "h.example", port: 443 });
});

test("download records: only whole, consistent ones are read", () => {
	const record = { id: "j", type: 2, size: 10, host: "h", path: "p", offset: 10 };
	assert.deepEqual(decodeDownloadRecord(encodeDownloadRecord(record)), record);
	for (const bad of [{ ...record, offset: 11 }, { ...record, size: 0, offset: 0 }, { ...record, type: 3 }, { ...record, id: "" }, { ...record, id: "x".repeat(37) }, { ...record, path: "" }])
		assert.equal(decodeDownloadRecord(encodeDownloadRecord(bad)), undefined, JSON.stringify(bad));
	assert.equal(decodeDownloadRecord(new TextEncoder().encode("[1,2")), undefined);
	assert.equal(decodeDownloadRecord(undefined), undefined);
});
