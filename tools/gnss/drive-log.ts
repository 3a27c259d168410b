/*
 * `node build/tools/gnss/drive-log.js [route.json] > hosts/sim/gnss/drive.nmea`:
 * makes the simulator host's NMEA log of a drive from a list of waypoints
 * (tools/gnss/route.json). The log is synthesized, not recorded: the
 * positions follow the waypoints' legs (out, a turn at the last one, back the
 * same way), the speed follows each leg's limit with realistic acceleration
 * and braking, slows for corners and stops where a waypoint says; the
 * receiver's side (position noise that drifts rather than jumps, the number
 * of satellites, HDOP, altitude) comes from a seeded random generator, so the
 * output is the same on every run. One GGA and one RMC sentence a second.
 */

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { nmeaSentence } from "../../modules/sensors/nmea.js";
import { seededRandom } from "../lib/fault-proxy.js";

export interface Waypoint {
	name: string;
	lat: number;
	lon: number;
	alt: number;
	/** Speed limit of the leg starting here. */
	speedKmh: number;
	/** A stop here, seconds. */
	stopS?: number;
	/** The route turns back here (the way back is the way out, reversed). */
	turn?: boolean;
}

export interface Route {
	start: string;
	geoidSeparation: number;
	waypoints: Waypoint[];
}

const EARTH_RADIUS = 6371008.8;
const ACCELERATION = 1.3;	// m/s², a calm start
const BRAKING = 1.8;	// m/s²
const STEP = 0.5;	// metres between the points of the path
const CORNER = 9;	// metres either side of a corner where the car turns
const SIDEWAYS = 2.5;	// m/s² through a curve
const KNOTS_PER_MPS = 3600 / 1852;

function gaussian(next: () => number): number {
	return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

interface PathPoint {
	x: number;	// metres east of the first waypoint
	y: number;	// metres north
	alt: number;
	limit: number;	// m/s
	stop: number;	// seconds stopped here
}

/** The legs out and back as points STEP metres apart, with each point's limit and stops. */
function polyline(route: Route): PathPoint[] {
	const out = route.waypoints;
	const origin = out[0]!;
	const cosLat = Math.cos((origin.lat * Math.PI) / 180);
	const local = (w: Waypoint) => ({ x: ((w.lon - origin.lon) * Math.PI / 180) * EARTH_RADIUS * cosLat, y: ((w.lat - origin.lat) * Math.PI / 180) * EARTH_RADIUS });
	// Back: the same waypoints reversed; each leg back keeps the limit of the same leg out.
	const back = out.slice(0, -1).reverse().map((w, i, list) => ({ ...w, speedKmh: (list[i + 1] ?? w).speedKmh, stopS: i === list.length - 1 ? 0 : w.stopS }));
	const legs = [...out, ...back];
	const points: PathPoint[] = [];
	for (let i = 0; i + 1 < legs.length; i++) {
		const a = legs[i]!;
		const b = legs[i + 1]!;
		const pa = local(a);
		const pb = local(b);
		const steps = Math.max(1, Math.round(Math.hypot(pb.x - pa.x, pb.y - pa.y) / STEP));
		for (let k = 0; k < steps; k++) {
			const f = k / steps;
			points.push({ x: pa.x + (pb.x - pa.x) * f, y: pa.y + (pb.y - pa.y) * f, alt: a.alt + (b.alt - a.alt) * f, limit: a.speedKmh / 3.6, stop: k === 0 ? (a.stopS ?? 0) : 0 });
		}
	}
	const last = legs[legs.length - 1]!;
	points.push({ ...local(last), alt: last.alt, limit: 0, stop: 0 });
	return points;
}

/** Corners rounded as a car drives them: each point the mean of the path within CORNER metres of it (fewer at the ends). */
function rounded(points: PathPoint[]): PathPoint[] {
	const half = Math.round(CORNER / STEP);
	return points.map((p, i) => {
		const reach = Math.min(half, i, points.length - 1 - i);
		let x = 0;
		let y = 0;
		for (let k = i - reach; k <= i + reach; k++) {
			x += points[k]!.x;
			y += points[k]!.y;
		}
		return { ...p, x: x / (2 * reach + 1), y: y / (2 * reach + 1) };
	});
}

function length(points: PathPoint[], i: number): number {
	return Math.hypot(points[i + 1]!.x - points[i]!.x, points[i + 1]!.y - points[i]!.y);
}

function heading(points: PathPoint[], i: number): number {
	return Math.atan2(points[i + 1]!.x - points[i]!.x, points[i + 1]!.y - points[i]!.y);
}

/** The speed at each point: the limit, slower through curves, zero at stops and ends, reached with bounded acceleration and braking. */
function speeds(points: PathPoint[]): number[] {
	const v = points.map((p) => p.limit);
	const span = 4;
	for (let i = span; i + span + 1 < points.length; i++) {
		let turn = Math.abs(heading(points, i + span) - heading(points, i - span));
		if (turn > Math.PI) turn = 2 * Math.PI - turn;
		let travelled = 0;
		for (let k = i - span; k < i + span; k++) travelled += length(points, k);
		const curvature = turn / Math.max(travelled, 1e-6);
		if (curvature > 1e-4) v[i] = Math.min(v[i]!, Math.sqrt(SIDEWAYS / curvature));
		if (points[i]!.stop > 0) v[i] = 0;
	}
	v[0] = 0;
	v[v.length - 1] = 0;
	for (let i = 1; i < v.length; i++) v[i] = Math.min(v[i]!, Math.sqrt(v[i - 1]! ** 2 + 2 * ACCELERATION * length(points, i - 1)));
	for (let i = v.length - 2; i >= 0; i--) v[i] = Math.min(v[i]!, Math.sqrt(v[i + 1]! ** 2 + 2 * BRAKING * length(points, i)));
	return v;
}

interface Sample {
	x: number;
	y: number;
	alt: number;
	speed: number;
	course: number;
}

/** The state once a second: where the car is, how fast, which way. */
function samples(points: PathPoint[], v: number[]): Sample[] {
	const result: Sample[] = [];
	let time = 0;
	let next = 0;
	let course = 0;
	for (let i = 0; i + 1 < points.length; i++) {
		const a = points[i]!;
		const b = points[i + 1]!;
		const ds = length(points, i);
		if (ds > 1e-6) course = (heading(points, i) * 180 / Math.PI + 360) % 360;
		const stopEnd = time + a.stop;
		while (next <= stopEnd) result.push({ x: a.x, y: a.y, alt: a.alt, speed: 0, course }), next++;
		time = stopEnd;
		// Constant acceleration over the step: its time from the mean speed.
		const dt = ds / Math.max((v[i]! + v[i + 1]!) / 2, 0.05);
		while (next <= time + dt) {
			const f = (next - time) / dt;
			result.push({ x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f, alt: a.alt + (b.alt - a.alt) * f, speed: v[i]! + (v[i + 1]! - v[i]!) * f, course });
			next++;
		}
		time += dt;
	}
	return result;
}

function pad(value: number, width: number, decimals: number): string {
	const text = value.toFixed(decimals);
	const whole = text.indexOf(".") < 0 ? text.length : text.indexOf(".");
	return "0".repeat(Math.max(0, width - whole)) + text;
}

/** Degrees as NMEA's ddmm.mmmmm (dddmm.mmmmm for longitude) and the hemisphere. */
function nmeaAngle(degrees: number, degreeDigits: number, positive: string, negative: string): string {
	const absolute = Math.abs(degrees);
	let whole = Math.floor(absolute);
	let minutes = Number(((absolute - whole) * 60).toFixed(5));
	if (minutes >= 60) { whole++; minutes -= 60; }
	return `${pad(whole, degreeDigits, 0)}${pad(minutes, 2, 5)},${degrees < 0 ? negative : positive}`;
}

/** The NMEA log of the route: a GGA and an RMC sentence per second, lines ending in CR LF. */
export function driveLog(route: Route, seed = 91): string {
	const next = seededRandom(seed);
	const points = rounded(polyline(route));
	const origin = route.waypoints[0]!;
	const cosLat = Math.cos((origin.lat * Math.PI) / 180);
	const start = Date.parse(route.start);
	if (Number.isNaN(start)) throw new Error(`route start ${route.start} is not a date`);
	const lines: string[] = [];
	let errorX = 0;
	let errorY = 0;
	let satellites = 9;
	samples(points, speeds(points)).forEach((s, second) => {
		// The receiver: an error that wanders (about a metre), satellites that come and go, HDOP that follows them.
		errorX = 0.9 * errorX + 0.35 * gaussian(next);
		errorY = 0.9 * errorY + 0.35 * gaussian(next);
		if (next() < 0.04) satellites = Math.min(12, Math.max(6, satellites + (next() < 0.5 ? -1 : 1)));
		const hdop = 0.55 + 4.2 / satellites + 0.06 * gaussian(next);
		const lat = origin.lat + ((s.y + errorY) / EARTH_RADIUS) * 180 / Math.PI;
		const lon = origin.lon + ((s.x + errorX) / (EARTH_RADIUS * cosLat)) * 180 / Math.PI;
		const moving = s.speed > 0.2;
		const speed = moving ? Math.max(0, s.speed + 0.08 * gaussian(next)) : 0.02 * next();
		const course = moving ? (s.course + 0.6 * gaussian(next) + 360) % 360 : s.course;
		const when = new Date(start + second * 1000);
		const time = `${pad(when.getUTCHours(), 2, 0)}${pad(when.getUTCMinutes(), 2, 0)}${pad(when.getUTCSeconds(), 2, 0)}.00`;
		const date = `${pad(when.getUTCDate(), 2, 0)}${pad(when.getUTCMonth() + 1, 2, 0)}${pad(when.getUTCFullYear() % 100, 2, 0)}`;
		const position = `${nmeaAngle(lat, 2, "N", "S")},${nmeaAngle(lon, 3, "E", "W")}`;
		const altitude = (s.alt + 0.4 * gaussian(next)).toFixed(1);
		lines.push(nmeaSentence(`GPGGA,${time},${position},1,${pad(satellites, 2, 0)},${hdop.toFixed(2)},${altitude},M,${route.geoidSeparation.toFixed(1)},M,,`));
		lines.push(nmeaSentence(`GPRMC,${time},A,${position},${(speed * KNOTS_PER_MPS).toFixed(3)},${course.toFixed(2)},${date},,,A`));
	});
	return lines.map((line) => `${line}\r\n`).join("");
}

export const ROUTE_FILE = resolve(fileURLToPath(import.meta.url), "..", "..", "..", "..", "tools", "gnss", "route.json");

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const route = JSON.parse(readFileSync(process.argv[2] ?? ROUTE_FILE, "utf8")) as Route;
	process.stdout.write(driveLog(route));
}
