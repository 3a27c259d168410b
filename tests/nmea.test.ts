/*
 * NMEA: the checksum and the GGA and RMC fields the firmware reads
 * (modules/sensors/nmea.ts, sensors/gnss's grouping of a fix), and the
 * shipped log hosts/sim/gnss/drive.nmea: every sentence's checksum valid, one
 * GGA and one RMC per second without a gap, positions, speed and course
 * consistent with each other, and the file exactly what tools/gnss/drive-log
 * makes from tools/gnss/route.json.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gnssFix, nmeaChecksum, nmeaFields, nmeaSentence, nmeaTime, parseGga, parseRmc, type GgaFix, type RmcFix } from "../modules/sensors/nmea.js";
import { driveLog, ROUTE_FILE, type Route } from "../tools/gnss/drive-log.js";

const root = process.cwd();
const DRIVE = readFileSync(join(root, "hosts", "sim", "gnss", "drive.nmea"), "utf8");
const GGA = "$GPGGA,141856.00,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,*64";

test("checksums: the XOR between $ and *, two upper-case hex digits; a wrong one or a damaged sentence is refused", () => {
	assert.equal(nmeaChecksum("GPGGA,141856.00,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,"), "64");
	assert.equal(nmeaSentence("A"), "$A*41");
	assert.equal(nmeaChecksum("AA"), "00");
	assert.ok(nmeaFields(GGA));
	assert.equal(nmeaFields(GGA.replace("*64", "*65")), undefined);
	assert.equal(nmeaFields(GGA.replace("6326", "6327")), undefined);
	assert.equal(nmeaFields(GGA.slice(0, -3)), undefined);
	assert.equal(nmeaFields(`${GGA}\r\n`)?.[0], "GPGGA");
	assert.throws(() => nmeaFields(42 as unknown as string), TypeError);
});

test("GGA and RMC fields: degrees with hemispheres, satellites, HDOP, altitude, knots and course", () => {
	const gga = parseGga(GGA)!;
	assert.equal(gga.time, "141856.00");
	assert.ok(Math.abs(gga.latitude - (63 + 26.27336 / 60)) < 1e-9);
	assert.ok(Math.abs(gga.longitude - (10 + 28.08721 / 60)) < 1e-9);
	assert.deepEqual([gga.quality, gga.satellites, gga.hdop, gga.altitude], [1, 9, 0.81, 34.7]);
	const south = parseGga(nmeaSentence("GPGGA,000000.00,3352.12000,S,15112.60000,W,1,05,1.5,10.0,M,20.0,M,,"))!;
	assert.ok(south.latitude < -33.8 && south.longitude < -151.2);
	const rmc = parseRmc(nmeaSentence("GPRMC,141857.00,A,6326.27336,N,01028.08721,E,12.500,87.25,140624,,,A"))!;
	assert.deepEqual([rmc.valid, rmc.speedKnots, rmc.course, rmc.date], [true, 12.5, 87.25, "140624"]);
	assert.equal(parseRmc(GGA), undefined);
	assert.equal(parseGga(nmeaSentence("GPRMC,1,A")), undefined);
	assert.ok(Number.isNaN(parseGga(nmeaSentence("GPGGA,000000.00,,,,,0,00,99.9,,M,,M,,"))!.latitude));
	assert.equal(nmeaTime(GGA), "141856.00");
	assert.equal(nmeaTime(nmeaSentence("GPGSA,A,3")), undefined);
});

test("a fix from the binding's text: its GGA and RMC; no GGA or a bad GGA checksum is no fix", () => {
	const rmc = nmeaSentence("GPRMC,141856.00,A,6326.27336,N,01028.08721,E,0.000,0.00,140624,,,A");
	const fix = gnssFix(`${GGA}\n${nmeaSentence("GPGSA,A,3")}\n${rmc}`)!;
	assert.equal(fix.gga, GGA);
	assert.equal(fix.rmc, rmc);
	assert.equal(fix.motion?.speedKnots, 0);
	assert.equal(gnssFix(GGA)!.rmc, undefined);
	assert.equal(gnssFix(rmc), undefined);
	assert.equal(gnssFix(GGA.replace("*64", "*00")), undefined);
});

const EARTH_RADIUS = 6371008.8;

function distance(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
	const rad = Math.PI / 180;
	const x = (b.longitude - a.longitude) * rad * Math.cos(((a.latitude + b.latitude) / 2) * rad);
	const y = (b.latitude - a.latitude) * rad;
	return Math.hypot(x, y) * EARTH_RADIUS;
}

function bearing(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
	const rad = Math.PI / 180;
	const x = (b.longitude - a.longitude) * rad * Math.cos(a.latitude * rad);
	const y = (b.latitude - a.latitude) * rad;
	return (Math.atan2(x, y) / rad + 360) % 360;
}

function seconds(time: string): number {
	return Number(time.slice(0, 2)) * 3600 + Number(time.slice(2, 4)) * 60 + Number(time.slice(4));
}

test("the shipped drive: valid checksums, hundreds of fixes a second apart, motion consistent with the positions", () => {
	assert.ok(DRIVE.endsWith("\r\n"));
	const lines = DRIVE.slice(0, -2).split("\r\n");
	for (const line of lines) assert.ok(nmeaFields(line), `bad checksum or form: ${line}`);
	assert.equal(lines.length % 2, 0);
	const fixes: Array<{ gga: GgaFix; rmc: RmcFix }> = [];
	for (let i = 0; i < lines.length; i += 2) {
		const gga = parseGga(lines[i]!);
		const rmc = parseRmc(lines[i + 1]!);
		assert.ok(gga && rmc, `fix ${i / 2}: a GGA then an RMC`);
		assert.equal(gga.time, rmc.time);
		assert.equal(gga.latitude, rmc.latitude);
		assert.equal(gga.longitude, rmc.longitude);
		assert.ok(rmc.valid && gga.quality === 1);
		assert.ok(gga.satellites >= 4 && gga.satellites <= 12 && gga.hdop > 0.5 && gga.hdop < 2.5, lines[i]);
		fixes.push({ gga, rmc });
	}
	assert.ok(fixes.length >= 300, `${fixes.length} fixes`);
	assert.ok(new Set(fixes.map((f) => f.gga.satellites)).size >= 3, "the number of satellites varies");
	assert.ok(new Set(fixes.map((f) => f.gga.hdop)).size >= 20, "HDOP varies");
	let moving = 0;
	for (let i = 1; i < fixes.length; i++) {
		const a = fixes[i - 1]!;
		const b = fixes[i]!;
		assert.equal(seconds(b.gga.time) - seconds(a.gga.time), 1, `fix ${i}: one second after the last`);
		const step = distance(a.gga, b.gga);
		const speed = ((a.rmc.speedKnots + b.rmc.speedKnots) / 2) * 1852 / 3600;
		// The receiver's noise: the position wanders by about a metre.
		assert.ok(Math.abs(step - speed) < 3.5, `fix ${i}: moved ${step.toFixed(1)} m at ${speed.toFixed(1)} m/s`);
		assert.ok(speed < 14.5, `fix ${i}: ${speed} m/s`);
		assert.ok(Math.abs(b.rmc.speedKnots - a.rmc.speedKnots) * 1852 / 3600 < 2.5, `fix ${i}: acceleration`);
		if (speed > 5 && step > 5) {
			moving++;
			// The course between the two fixes' (the mean direction of their velocities) against the way it moved.
			const rad = Math.PI / 180;
			const course = Math.atan2(Math.sin(a.rmc.course * rad) + Math.sin(b.rmc.course * rad), Math.cos(a.rmc.course * rad) + Math.cos(b.rmc.course * rad)) / rad;
			const turn = Math.abs(((bearing(a.gga, b.gga) - course + 540) % 360) - 180);
			assert.ok(turn < 20, `fix ${i}: course ${a.rmc.course} then ${b.rmc.course} but moved towards ${bearing(a.gga, b.gga).toFixed(0)}`);
		}
	}
	assert.ok(moving > fixes.length / 2, `moving in ${moving} of ${fixes.length} fixes`);
	assert.ok(fixes.some((f) => f.rmc.speedKnots < 0.05), "it stops on the way");
});

test("the shipped drive is what the generator makes from the committed route", () => {
	const route = JSON.parse(readFileSync(ROUTE_FILE, "utf8")) as Route;
	assert.equal(driveLog(route), DRIVE);
	assert.notEqual(driveLog(route, 7), DRIVE, "the seed matters");
});
