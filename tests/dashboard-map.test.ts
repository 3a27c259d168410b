/*
 * The dashboard's position code without a browser: GGA parsing (checksum,
 * fix, hemispheres, malformed fields) and the map's projection and grid
 * (tools/cloud-sim/dashboard/map.js, imported as the page imports it).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { nmeaChecksum, parseGga } from "../tools/cloud-sim/gga.js";
import { root } from "./support/sim.js";

function sentence(body: string): string {
	return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, "0")}`;
}

interface MapModule {
	mercatorY(lat: number): number;
	inverseMercatorY(y: number): number;
	trackBounds(tracks: { points: { lat: number; lon: number }[] }[]): { minLat: number; maxLat: number; minLon: number; maxLon: number } | null;
	fitProjection(bounds: { minLat: number; maxLat: number; minLon: number; maxLon: number }, width: number, height: number, padding?: number): {
		project(lat: number, lon: number): [number, number];
		view: { minLat: number; maxLat: number; minLon: number; maxLon: number };
		scale: number;
	};
	niceStep(span: number, lines?: number): number;
	gridLines(min: number, max: number, step: number): { value: number; label: string }[];
}

const map = await import(pathToFileURL(join(root, "tools", "cloud-sim", "dashboard", "map.js")).href) as MapModule;

test("GGA: a known sentence, its checksum and its position", () => {
	// the NMEA 0183 reference example, with its published checksum
	const known = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47";
	assert.equal(nmeaChecksum("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"), 0x47);
	const position = parseGga(known);
	assert.ok(position);
	assert.ok(Math.abs(position.lat - (48 + 7.038 / 60)) < 1e-9);
	assert.ok(Math.abs(position.lon - (11 + 31 / 60)) < 1e-9);
	assert.deepEqual({ time: position.time, quality: position.quality, satellites: position.satellites, altitude: position.altitude },
		{ time: "123519", quality: 1, satellites: 8, altitude: 545.4 });
	assert.ok(parseGga(known.replace("*47", "*47\r\n")), "a line ending is no part of the sentence");
	assert.ok(parseGga("$GPGGA,141918.00,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,*6f"), "lower-case hex digits");
	assert.equal(parseGga("$GPGGA,141918.00,6326.27336,N,01028.08721,E,1,09,0.81,34.7,M,39.8,M,,*6E"), undefined);
});

test("GGA: southern and western hemispheres are negative; other talkers are read too", () => {
	const position = parseGga(sentence("GNGGA,010203.00,3352.1234,S,15112.5000,W,2,12,0.7,10.0,M,,M,,"));
	assert.ok(position);
	assert.ok(Math.abs(position.lat + (33 + 52.1234 / 60)) < 1e-9);
	assert.ok(Math.abs(position.lon + (151 + 12.5 / 60)) < 1e-9);
	assert.equal(position.altitude, 10);
});

test("GGA: bad sentences are no position, and never throw", () => {
	const body = "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,";
	const bad: unknown[] = [
		`$${body}*48`,					// wrong checksum
		`$${body}`,						// no checksum
		`${sentence(body).slice(1)}`,	// no $
		sentence(body.replace(",1,08,", ",0,00,")),	// no fix
		sentence(body.replace("4807.038", "4860.000")),	// 60 minutes
		sentence(body.replace("4807.038", "9107.038")),	// beyond the pole
		sentence(body.replace("01131.000", "18131.000")),	// beyond 180°
		sentence(body.replace(",N,", ",X,")),	// no hemisphere
		sentence(body.replace("4807.038", "48x7.038")),
		sentence(body.replace("4807.038", "")),	// no fix yet: empty fields
		sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"),	// another sentence
		sentence("GPGGA,123519,4807.038,N"),	// cut short
		`${sentence(body)}${"0".repeat(200)}`,
		"", "$", "$*00", 42, null, undefined, { data: body },
	];
	for (const value of bad) assert.equal(parseGga(value), undefined, JSON.stringify(value));
});

test("map: Web-Mercator y and its inverse", () => {
	assert.ok(Math.abs(map.mercatorY(0)) < 1e-12);
	assert.ok(map.mercatorY(60) > map.mercatorY(30) * 2, "the scale grows towards the poles");
	for (const lat of [-80, -45.5, 0, 12.25, 63.4]) assert.ok(Math.abs(map.inverseMercatorY(map.mercatorY(lat)) - lat) < 1e-9);
	assert.equal(map.mercatorY(90), map.mercatorY(85), "clamped short of the pole");
});

test("map: the projection fits every point inside the padding with one scale for both axes", () => {
	const tracks = [
		{ points: [{ lat: 63.43, lon: 10.39 }, { lat: 63.44, lon: 10.42 }] },
		{ points: [{ lat: 63.42, lon: 10.45 }, { lat: Number.NaN, lon: 1 }] },
		{ points: [] },
	];
	const bounds = map.trackBounds(tracks);
	assert.deepEqual(bounds, { minLat: 63.42, maxLat: 63.44, minLon: 10.39, maxLon: 10.45 });
	assert.equal(map.trackBounds([{ points: [] }]), null);
	const { project, view } = map.fitProjection(bounds!, 800, 400, 20);
	for (const { lat, lon } of tracks.flatMap((t) => t.points).filter((p) => Number.isFinite(p.lat))) {
		const [x, y] = project(lat, lon);
		assert.ok(x >= 20 - 1e-9 && x <= 780 + 1e-9 && y >= 20 - 1e-9 && y <= 380 + 1e-9, `${lat},${lon} -> ${x},${y}`);
	}
	// north is up, east is right
	assert.ok(project(63.44, 10.4)[1] < project(63.42, 10.4)[1]);
	assert.ok(project(63.43, 10.45)[0] > project(63.43, 10.39)[0]);
	// equal scale: a small step east and north at the centre are as long as Mercator says
	const [cx, cy] = project(63.43, 10.42);
	const east = project(63.43, 10.421)[0] - cx;
	const north = cy - project(63.43 + 0.001, 10.42)[1];
	assert.ok(Math.abs(north / east - 1 / Math.cos((63.43 * Math.PI) / 180)) < 1e-3, `${north / east}`);
	// the view's corners map to the canvas's corners
	const [left, top] = project(view.maxLat, view.minLon);
	const [right, bottom] = project(view.minLat, view.maxLon);
	assert.ok(Math.abs(left) < 1e-6 && Math.abs(top) < 1e-6 && Math.abs(right - 800) < 1e-6 && Math.abs(bottom - 400) < 1e-6);
	assert.throws(() => map.fitProjection(bounds!, 30, 400, 20), RangeError);
});

test("map: a single point gets a view around it", () => {
	const { project, view } = map.fitProjection({ minLat: 10, maxLat: 10, minLon: 20, maxLon: 20 }, 400, 400);
	const [x, y] = project(10, 20);
	// in the middle, to a fraction of a pixel (the view's centre is Mercator's, not the latitude's)
	assert.ok(Math.abs(x - 200) < 1e-9 && Math.abs(y - 200) < 0.5, `${x},${y}`);
	assert.ok(view.maxLon - view.minLon > 0.001 && Number.isFinite(view.maxLat - view.minLat));
});

test("map: round grid steps and labels", () => {
	assert.equal(map.niceStep(0.06, 6), 0.01);
	assert.equal(map.niceStep(0.13, 6), 0.05);
	assert.equal(map.niceStep(7, 6), 2);
	assert.equal(map.niceStep(360, 6), 100);
	assert.throws(() => map.niceStep(0), RangeError);
	assert.deepEqual(map.gridLines(10.387, 10.432, 0.01).map((l) => l.label), ["10.39", "10.40", "10.41", "10.42", "10.43"]);
	assert.deepEqual(map.gridLines(-3.5, 4, 2).map((l) => l.label), ["-2", "0", "2", "4"]);
});
