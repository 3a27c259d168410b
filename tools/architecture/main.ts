/*
 * `node build/tools/architecture/main.js [--source FILE] [--out FILE] [--check]`:
 * draws docs/images/architecture.svg from docs/architecture.json. The layer rows
 * come from LAYERS in tools/check-modules.ts, the table the build enforces, so
 * the picture shows the layering the code has; the source file adds the app, the
 * native bindings, the hosts, the clouds and the links between them. The layout
 * is computed (no coordinates in the source) and the output depends on nothing
 * but the two inputs, so a test can draw it again and compare byte for byte.
 * With --check it writes nothing and fails when the file on disk differs.
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LAYERS } from "../check-modules.js";
import { option } from "../lib/args.js";

export interface Box {
	id: string;
	title: string;
	lines: string[];
}

export interface CloudGroup {
	title: string;
	boxes: Box[];
}

export interface Link {
	/** A box id, or "layer:<name>" for a row of the layer table. */
	from: string;
	to: string;
	label?: string;
	dashed?: boolean;
}

export interface Architecture {
	title: string;
	legend: string;
	device: { title: string; app: Box; native: Box; hosts: Box[] };
	clouds: CloudGroup[];
	links: Link[];
}

export type Layers = ReadonlyArray<{ name: string; modules: readonly string[] }>;

const root = resolve(fileURLToPath(import.meta.url), "..", "..", "..", "..");
export const DEFAULT_SOURCE = resolve(root, "docs", "architecture.json");
export const DEFAULT_OUTPUT = resolve(root, "docs", "images", "architecture.svg");

// ---------------------------------------------------------------- checking the source

function fail(where: string, what: string): never {
	throw new Error(`architecture source: ${where} ${what}`);
}

function text(value: unknown, where: string): string {
	if (typeof value !== "string" || value.trim() === "") fail(where, "must be a non-empty string");
	return value;
}

function object(value: unknown, where: string): Record<string, unknown> {
	if (typeof value !== "object" || value === null || Array.isArray(value)) fail(where, "must be an object");
	return value as Record<string, unknown>;
}

function list(value: unknown, where: string): unknown[] {
	if (!Array.isArray(value) || value.length === 0) fail(where, "must be a non-empty array");
	return value;
}

function only(value: Record<string, unknown>, keys: string[], where: string): void {
	for (const key of Object.keys(value)) if (!keys.includes(key)) fail(where, `has an unknown key "${key}" (known: ${keys.join(", ")})`);
}

function box(value: unknown, where: string): Box {
	const o = object(value, where);
	only(o, ["id", "title", "lines"], where);
	const id = text(o.id, `${where}.id`);
	if (!/^[a-z][a-z0-9-]*$/.test(id)) fail(`${where}.id`, `"${id}" must be lower-case letters, digits and -`);
	return { id, title: text(o.title, `${where}.title`), lines: list(o.lines, `${where}.lines`).map((line, i) => text(line, `${where}.lines[${i}]`)) };
}

/** Parses and checks the source; every mistake is an Error naming where it is. */
export function parseArchitecture(source: string, layers: Layers = LAYERS): Architecture {
	let json: unknown;
	try {
		json = JSON.parse(source);
	}
	catch (error) {
		throw new Error(`architecture source: not JSON: ${error instanceof Error ? error.message : String(error)}`);
	}
	const top = object(json, "the document");
	only(top, ["title", "legend", "device", "clouds", "links"], "the document");
	const d = object(top.device, "device");
	only(d, ["title", "app", "native", "hosts"], "device");
	const device = {
		title: text(d.title, "device.title"),
		app: box(d.app, "device.app"),
		native: box(d.native, "device.native"),
		hosts: list(d.hosts, "device.hosts").map((h, i) => box(h, `device.hosts[${i}]`)),
	};
	const clouds = list(top.clouds, "clouds").map((g, i) => {
		const o = object(g, `clouds[${i}]`);
		only(o, ["title", "boxes"], `clouds[${i}]`);
		return { title: text(o.title, `clouds[${i}].title`), boxes: list(o.boxes, `clouds[${i}].boxes`).map((b, j) => box(b, `clouds[${i}].boxes[${j}]`)) };
	});
	const ids = new Set<string>();
	for (const b of [device.app, device.native, ...device.hosts, ...clouds.flatMap((g) => g.boxes)]) {
		if (ids.has(b.id)) fail("box id", `"${b.id}" is used twice`);
		ids.add(b.id);
	}
	const endpoint = (value: unknown, where: string): string => {
		const name = text(value, where);
		if (name.startsWith("layer:")) {
			if (!layers.some((layer) => `layer:${layer.name}` === name)) fail(where, `"${name}" names no layer of tools/check-modules.ts (${layers.map((l) => l.name).join(", ")})`);
		}
		else if (!ids.has(name)) fail(where, `"${name}" is no box id`);
		return name;
	};
	const cloudIds = new Set(clouds.flatMap((g) => g.boxes.map((b) => b.id)));
	const links = list(top.links, "links").map((l, i): Link => {
		const where = `links[${i}]`;
		const o = object(l, where);
		only(o, ["from", "to", "label", "dashed"], where);
		const link: Link = { from: endpoint(o.from, `${where}.from`), to: endpoint(o.to, `${where}.to`) };
		if (link.from === link.to) fail(where, "links a box to itself");
		if (o.label !== undefined) link.label = text(o.label, `${where}.label`);
		if (o.dashed !== undefined) {
			if (typeof o.dashed !== "boolean") fail(`${where}.dashed`, "must be true or false");
			link.dashed = o.dashed;
		}
		const crosses = !cloudIds.has(link.from) && cloudIds.has(link.to);
		const inside = cloudIds.has(link.from) && cloudIds.has(link.to);
		if (!crosses && !inside) fail(where, "must go from the device column to a cloud box, or between cloud boxes");
		return link;
	});
	return { title: text(top.title, "title"), legend: text(top.legend, "legend"), device, clouds, links };
}

// ---------------------------------------------------------------- layout

/** A width estimate for wrapping and sizing (the test measures the real text in Chromium). */
function textWidth(value: string, size: number, bold = false): number {
	return value.length * size * (bold ? 0.66 : 0.6);
}

/** Splits `items` joined by `separator` into lines no wider than `width`. */
function wrap(items: string[], separator: string, width: number, size: number): string[] {
	const lines: string[] = [];
	let line = "";
	for (const item of items) {
		const candidate = line === "" ? item : `${line}${separator}${item}`;
		if (line !== "" && textWidth(candidate, size) > width) {
			lines.push(line + separator.trimEnd());
			line = item;
		}
		else line = candidate;
	}
	if (line !== "") lines.push(line);
	return lines;
}

/** A layer's modules, grouped by folder: "mqtt/: errors, packet", "socket/, storage/". */
export function layerModules(modules: readonly string[]): string[] {
	const groups: string[] = [];
	const named = new Map<string, string[]>();
	for (const module of modules) {
		const slash = module.lastIndexOf("/");
		const folder = module.slice(0, slash + 1);
		const file = module.slice(slash + 1);
		if (file === "*") {
			groups.push(folder);
			continue;
		}
		const files = named.get(folder);
		if (files) files.push(file);
		else {
			const fresh = [file];
			named.set(folder, fresh);
			groups.push(folder + "\u0000");
		}
	}
	return groups.map((group) => group.endsWith("\u0000") ? `${group.slice(0, -1)}: ${named.get(group.slice(0, -1))!.join(", ")}` : group);
}

interface Rect {
	x: number;
	y: number;
	w: number;
	h: number;
}

const FONT = "DejaVu Sans, Verdana, Arial, sans-serif";
const SIZE = { title: 18, group: 14, box: 13, line: 11.5, label: 11 };
const LINE = 15;
const PAD = 12;
const LEFT = { x: 20, w: 660 };
const GAP = 230;
const RIGHT = { x: LEFT.x + LEFT.w + GAP, w: 420 };
const WIDTH = RIGHT.x + RIGHT.w + 20;
const NAME_COLUMN = 192;
const BOX_GAP = 24;

function escape(value: string): string {
	return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function n(value: number): string {
	return String(Math.round(value * 10) / 10);
}

class Svg {
	readonly parts: string[] = [];

	rect(r: Rect, style: string, extra = ""): void {
		this.parts.push(`<rect x="${n(r.x)}" y="${n(r.y)}" width="${n(r.w)}" height="${n(r.h)}" rx="4" class="${style}"${extra}/>`);
	}

	text(x: number, y: number, value: string, style: string, box?: string): void {
		const owner = box === undefined ? "" : ` data-box="${escape(box)}"`;
		this.parts.push(`<text x="${n(x)}" y="${n(y)}" class="${style}"${owner}>${escape(value)}</text>`);
	}

	/** A box with a bold title and its lines. */
	box(r: Rect, b: Box, style: string): void {
		this.parts.push(`<g id="box-${b.id}">`);
		this.rect(r, style, ` data-id="${b.id}"`);
		this.text(r.x + PAD, r.y + 19, b.title, "title", b.id);
		b.lines.forEach((line, i) => this.text(r.x + PAD, r.y + 19 + LINE * (i + 1), line, "line", b.id));
		this.parts.push("</g>");
	}
}

function boxHeight(b: Box): number {
	return 28 + LINE * b.lines.length;
}

interface Placed {
	rect: Rect;
	column: "device" | "cloud";
	group?: number;
	index?: number;
}

/** Draws the picture; the same inputs give the same bytes. */
export function renderArchitecture(arch: Architecture, layers: Layers = LAYERS): string {
	const svg = new Svg();
	const placed = new Map<string, Placed>();

	// The device column: app, the layer table top down, native bindings, hosts.
	const inner = { x: LEFT.x + PAD, w: LEFT.w - 2 * PAD };
	let y = 48;
	const deviceTop = y;
	y += 30;
	const appRect = { x: inner.x, y, w: inner.w, h: boxHeight(arch.device.app) };
	placed.set(arch.device.app.id, { rect: appRect, column: "device" });
	y += appRect.h + 10;
	const rows = [...layers].reverse().map((layer) => {
		const lines = wrap(layerModules(layer.modules), "; ", inner.w - NAME_COLUMN - 2 * PAD, SIZE.line)
			.flatMap((line) => textWidth(line, SIZE.line) > inner.w - NAME_COLUMN - 2 * PAD ? wrap(line.split(", "), ", ", inner.w - NAME_COLUMN - 2 * PAD, SIZE.line) : [line]);
		const rect = { x: inner.x, y, w: inner.w, h: 10 + LINE * lines.length };
		placed.set(`layer:${layer.name}`, { rect, column: "device" });
		y += rect.h;
		return { layer, lines, rect };
	});
	y += 10;
	const nativeRect = { x: inner.x, y, w: inner.w, h: boxHeight(arch.device.native) };
	placed.set(arch.device.native.id, { rect: nativeRect, column: "device" });
	y += nativeRect.h + 10;
	const hostsHeight = Math.max(...arch.device.hosts.map(boxHeight));
	const hostWidth = (inner.w - 10 * (arch.device.hosts.length - 1)) / arch.device.hosts.length;
	const hostRects = arch.device.hosts.map((host, i) => {
		const rect = { x: inner.x + i * (hostWidth + 10), y, w: hostWidth, h: hostsHeight };
		placed.set(host.id, { rect, column: "device" });
		return rect;
	});
	y += hostsHeight + PAD;
	const deviceBottom = y;

	// The cloud column: groups of stacked boxes; a box that a device link reaches
	// moves down to the height of its source where it can, so that link is straight.
	const sourceY = new Map<string, number>();
	for (const link of arch.links) {
		const from = placed.get(link.from);
		if (from && !sourceY.has(link.to)) sourceY.set(link.to, from.rect.y + from.rect.h / 2);
	}
	let cy = deviceTop;
	const groupRects: Rect[] = [];
	arch.clouds.forEach((group, g) => {
		const top = cy;
		cy += 30;
		group.boxes.forEach((b, i) => {
			const h = boxHeight(b);
			const wanted = sourceY.get(b.id);
			if (wanted !== undefined) cy = Math.max(cy, wanted - h / 2);
			const rect = { x: RIGHT.x + PAD, y: cy, w: RIGHT.w - 2 * PAD, h };
			placed.set(b.id, { rect, column: "cloud", group: g, index: i });
			cy += h + BOX_GAP;
		});
		cy += PAD - BOX_GAP;
		groupRects.push({ x: RIGHT.x, y: top, w: RIGHT.w, h: cy - top });
		cy += 18;
	});
	const height = Math.max(deviceBottom, cy) + 40;

	svg.parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${n(height)}" viewBox="0 0 ${WIDTH} ${n(height)}" font-family="${FONT}">`);
	svg.parts.push(`<title>${escape(arch.title)}</title>`);
	svg.parts.push("<style>",
		`.frame{fill:#f6f8fa;stroke:#8c959f;stroke-width:1}`,
		`.app{fill:#dafbe1;stroke:#1a7f37}`,
		`.layer{fill:#ddf4ff;stroke:#0969da}`,
		`.layer-alt{fill:#eef8ff;stroke:#0969da}`,
		`.native{fill:#fff8c5;stroke:#9a6700}`,
		`.host{fill:#fbefff;stroke:#8250df}`,
		`.cloud{fill:#ffebe9;stroke:#cf222e}`,
		`.remote{fill:#ffffff;stroke:#cf222e;stroke-dasharray:5 3}`,
		`.heading{font-size:${SIZE.title}px;font-weight:bold;fill:#1f2328}`,
		`.group{font-size:${SIZE.group}px;font-weight:bold;fill:#1f2328}`,
		`.title{font-size:${SIZE.box}px;font-weight:bold;fill:#1f2328}`,
		`.line{font-size:${SIZE.line}px;fill:#1f2328}`,
		`.legend{font-size:${SIZE.label}px;fill:#59636e}`,
		`.label{font-size:${SIZE.label}px;fill:#1f2328;paint-order:stroke;stroke:#ffffff;stroke-width:4px;stroke-linejoin:round}`,
		`.link{fill:none;stroke:#1f2328;stroke-width:1.4}`,
		`.dashed{stroke-dasharray:6 4}`,
		"</style>");
	svg.parts.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1f2328"/></marker></defs>`);
	svg.parts.push(`<rect x="0" y="0" width="${WIDTH}" height="${n(height)}" fill="#ffffff"/>`);
	svg.text(LEFT.x, 30, arch.title, "heading");

	svg.rect({ x: LEFT.x, y: deviceTop, w: LEFT.w, h: deviceBottom - deviceTop }, "frame");
	svg.text(LEFT.x + PAD, deviceTop + 20, arch.device.title, "group");
	svg.box(appRect, arch.device.app, "app");
	svg.parts.push(`<g id="layers">`);
	rows.forEach(({ layer, lines, rect }, i) => {
		const id = `layer:${layer.name}`;
		svg.parts.push(`<g class="layer-row" data-layer="${escape(layer.name)}">`);
		svg.parts.push(`<rect x="${n(rect.x)}" y="${n(rect.y)}" width="${n(rect.w)}" height="${n(rect.h)}" class="${i % 2 ? "layer-alt" : "layer"}" data-id="${escape(id)}"/>`);
		svg.text(rect.x + PAD, rect.y + 17, layer.name, "title", id);
		lines.forEach((line, j) => svg.text(rect.x + NAME_COLUMN, rect.y + 17 + LINE * j, line, "line", id));
		svg.parts.push("</g>");
	});
	svg.parts.push("</g>");
	svg.box(nativeRect, arch.device.native, "native");
	arch.device.hosts.forEach((host, i) => svg.box(hostRects[i]!, host, "host"));

	arch.clouds.forEach((group, g) => {
		const remote = g > 0;
		svg.rect(groupRects[g]!, remote ? "remote" : "frame");
		svg.text(RIGHT.x + PAD, groupRects[g]!.y + 20, group.title, "group");
		for (const b of group.boxes) svg.box(placed.get(b.id)!.rect, b, "cloud");
	});

	// Links: device to cloud straight when the target spans the source's height,
	// else with one bend in its own lane of the gap; inside the cloud column a
	// vertical arrow between neighbours, else a lane to the right of the column.
	const outgoing = new Map<string, number>();
	for (const link of arch.links) if (placed.get(link.from)!.column === "device") outgoing.set(link.from, (outgoing.get(link.from) ?? 0) + 1);
	const used = new Map<string, number>();
	let lane = 0;
	let rightLane = 0;
	for (const link of arch.links) {
		const from = placed.get(link.from)!;
		const to = placed.get(link.to)!;
		const dash = link.dashed ? " dashed" : "";
		if (from.column === "device") {
			const k = used.get(link.from) ?? 0;
			used.set(link.from, k + 1);
			const count = outgoing.get(link.from)!;
			const sy = from.rect.y + from.rect.h * (k + 1) / (count + 1);
			const sx = LEFT.x + LEFT.w;
			const tx = to.rect.x;
			if (sy > to.rect.y + 6 && sy < to.rect.y + to.rect.h - 6) {
				svg.parts.push(`<path d="M${n(sx)},${n(sy)} H${n(tx)}" class="link${dash}" marker-end="url(#arrow)"/>`);
				if (link.label) svg.text(sx + 14, sy - 5, link.label, "label");
			}
			else {
				const lx = sx + 24 + 18 * lane++;
				const ty = to.rect.y + Math.min(to.rect.h / 2, 22);
				svg.parts.push(`<path d="M${n(sx)},${n(sy)} H${n(lx)} V${n(ty)} H${n(tx)}" class="link${dash}" marker-end="url(#arrow)"/>`);
				if (link.label) svg.text(lx + 8, ty - 5, link.label, "label");
			}
		}
		else if (from.group === to.group && Math.abs(from.index! - to.index!) === 1) {
			const x = from.rect.x + 60;
			const down = from.index! < to.index!;
			const y1 = down ? from.rect.y + from.rect.h : from.rect.y;
			const y2 = down ? to.rect.y : to.rect.y + to.rect.h;
			svg.parts.push(`<path d="M${n(x)},${n(y1)} V${n(y2)}" class="link${dash}" marker-end="url(#arrow)"/>`);
			if (link.label) svg.text(x + 10, (y1 + y2) / 2 + 4, link.label, "label");
		}
		else {
			if (link.label) throw new Error(`architecture source: the link from ${link.from} to ${link.to} joins boxes that are not neighbours and is drawn beside the column: it takes no label`);
			const x1 = from.rect.x + from.rect.w;
			const lx = x1 + 8 + 6 * rightLane++;
			const y1 = from.rect.y + from.rect.h / 2;
			const y2 = to.rect.y + to.rect.h / 2;
			svg.parts.push(`<path d="M${n(x1)},${n(y1)} H${n(lx)} V${n(y2)} H${n(x1)}" class="link${dash}" marker-end="url(#arrow)"/>`);
		}
	}

	svg.text(LEFT.x, height - 16, arch.legend, "legend");
	svg.parts.push("</svg>");
	return svg.parts.join("\n") + "\n";
}

/** Reads the source, draws it, and writes or compares the output. */
export function generate(options: { source?: string; out?: string; check?: boolean } = {}): { out: string; changed: boolean } {
	const source = options.source ?? DEFAULT_SOURCE;
	const out = options.out ?? DEFAULT_OUTPUT;
	const svg = renderArchitecture(parseArchitecture(readFileSync(source, "utf8")));
	let current: string | undefined;
	try {
		current = readFileSync(out, "utf8");
	}
	catch {
		current = undefined;
	}
	const changed = current !== svg;
	if (changed && !options.check) {
		mkdirSync(dirname(out), { recursive: true });
		writeFileSync(out, svg);
	}
	return { out, changed };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	try {
		const argv = process.argv.slice(2);
		const known = ["--source", "--out", "--check"];
		for (const argument of argv) if (argument.startsWith("--") && !known.includes(argument)) throw new Error(`unknown option ${argument}; usage: architecture [--source FILE] [--out FILE] [--check]`);
		const check = argv.includes("--check");
		const result = generate({ source: option(argv, "--source"), out: option(argv, "--out"), check });
		if (check && result.changed) throw new Error(`${result.out} differs from what its source gives; run node build/tools/architecture/main.js`);
		console.log(`architecture: ${result.out} ${check ? "matches its source" : result.changed ? "written" : "unchanged"}`);
	}
	catch (error) {
		console.error(`architecture: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 1;
	}
}
