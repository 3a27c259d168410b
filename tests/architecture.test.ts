/*
 * The architecture picture (docs/images/architecture.svg) against its source
 * (docs/architecture.json) and the layer table the build enforces
 * (LAYERS in tools/check-modules.ts): the committed file is exactly what the
 * generator draws now, it is well-formed XML, every layer is a row in the
 * order of the table, and Chromium draws every text inside its box. A
 * rendering is kept in test-artifacts/architecture.png.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { LAYERS } from "../tools/check-modules.js";
import { DEFAULT_OUTPUT, DEFAULT_SOURCE, generate, layerModules, parseArchitecture, renderArchitecture } from "../tools/architecture/main.js";

const root = process.cwd();
const source = readFileSync(DEFAULT_SOURCE, "utf8");
let browser: Browser;

before(async () => {
	browser = await chromium.launch({
		executablePath: "/usr/bin/chromium",
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
	});
});

after(async () => {
	await browser?.close();
});

test("the committed picture is what its source and the layer table give", () => {
	const committed = readFileSync(DEFAULT_OUTPUT, "utf8");
	assert.equal(renderArchitecture(parseArchitecture(source)), committed, "docs/images/architecture.svg is stale: run node build/tools/architecture/main.js and commit it");
	assert.equal(generate({ check: true }).changed, false);
});

test("a change of the layer table changes the picture", () => {
	const arch = parseArchitecture(source);
	const moved = [...LAYERS.slice(0, 2), { name: "a new layer", modules: ["new/*"] }, ...LAYERS.slice(2)];
	const svg = renderArchitecture(arch, moved);
	assert.notEqual(svg, renderArchitecture(arch));
	assert.match(svg, /data-layer="a new layer"/);
});

test("--check fails on a stale picture and names the file", () => {
	const dir = mkdtempSync(join(tmpdir(), "architecture-"));
	try {
		const out = join(dir, "architecture.svg");
		writeFileSync(out, readFileSync(DEFAULT_OUTPUT, "utf8").replace("MQTT broker", "MQTT brocker"));
		const stale = spawnSync("node", [join(root, "build", "tools", "architecture", "main.js"), "--out", out, "--check"], { encoding: "utf8" });
		assert.equal(stale.status, 1);
		assert.match(stale.stderr, new RegExp(`${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} differs from what its source gives`));
		assert.match(readFileSync(out, "utf8"), /MQTT brocker/, "--check writes nothing");
		const written = spawnSync("node", [join(root, "build", "tools", "architecture", "main.js"), "--out", out], { encoding: "utf8" });
		assert.equal(written.status, 0, written.stderr);
		assert.equal(readFileSync(out, "utf8"), readFileSync(DEFAULT_OUTPUT, "utf8"));
		const unknown = spawnSync("node", [join(root, "build", "tools", "architecture", "main.js"), "--chek"], { encoding: "utf8" });
		assert.equal(unknown.status, 1);
		assert.match(unknown.stderr, /unknown option --chek/);
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test("mistakes in the source are refused with where they are", () => {
	const doc = () => JSON.parse(source) as Record<string, any>;
	const refuse = (change: (d: Record<string, any>) => void, pattern: RegExp) => {
		const d = doc();
		change(d);
		assert.throws(() => parseArchitecture(JSON.stringify(d)), pattern);
	};
	assert.throws(() => parseArchitecture("{"), /architecture source: not JSON/);
	refuse((d) => { d.links[0].from = "layer:transport"; }, /links\[0\]\.from "layer:transport" names no layer of tools\/check-modules\.ts/);
	refuse((d) => { d.links[1].to = "brokr"; }, /links\[1\]\.to "brokr" is no box id/);
	refuse((d) => { d.clouds[0].boxes[1].id = "broker"; }, /"broker" is used twice/);
	refuse((d) => { d.device.hosts[0].lines = []; }, /device\.hosts\[0\]\.lines must be a non-empty array/);
	refuse((d) => { d.device.app.colour = "red"; }, /device\.app has an unknown key "colour"/);
	refuse((d) => { d.links.push({ from: "broker", to: "layer:API" }); }, /must go from the device column to a cloud box, or between cloud boxes/);
	refuse((d) => { d.links[0].dashed = "yes"; }, /links\[0\]\.dashed must be true or false/);
	const labelled = doc();
	labelled.links.push({ from: "dashboard", to: "store", label: "reads" });
	assert.throws(() => renderArchitecture(parseArchitecture(JSON.stringify(labelled))), /not neighbours .* takes no label/);
});

test("a layer's modules are grouped by folder", () => {
	assert.deepEqual(layerModules(["socket/*", "storage/*"]), ["socket/", "storage/"]);
	assert.deepEqual(layerModules(["nrf-cloud/settings", "fota/*", "nrf-cloud/api"]), ["nrf-cloud/: settings, api", "fota/"]);
});

/** Draws `svg` in the page and reports its layer rows and the texts that leave their box. */
async function measure(page: Page, svg: string): Promise<{ rows: Array<{ name: string | null; y: number; text: string }>; outside: string[]; texts: number }> {
	await page.setContent(`<!DOCTYPE html><html><body style="margin:0">${svg}</body></html>`);
	return page.evaluate(() => {
		const rows = [...document.querySelectorAll("g.layer-row")].map((g) => ({
			name: g.getAttribute("data-layer"),
			y: (g.querySelector("rect") as SVGRectElement).getBBox().y,
			text: [...g.querySelectorAll("text")].map((t) => t.textContent).join(" "),
		}));
		const outside: string[] = [];
		let texts = 0;
		for (const t of document.querySelectorAll("text[data-box]")) {
			texts++;
			const owner = document.querySelector(`rect[data-id="${t.getAttribute("data-box")}"]`) as SVGRectElement | null;
			if (!owner) {
				outside.push(`${t.textContent} (no box)`);
				continue;
			}
			const a = (t as SVGTextElement).getBBox();
			const b = owner.getBBox();
			if (a.x < b.x + 2 || a.y < b.y || a.x + a.width > b.x + b.width - 2 || a.y + a.height > b.y + b.height) outside.push(`${t.textContent} (${Math.round(a.x + a.width)} > ${Math.round(b.x + b.width)})`);
		}
		return { rows, outside, texts };
	});
}

test("the picture is XML, its rows follow the layer table and Chromium draws every text inside its box", async () => {
	const svg = readFileSync(DEFAULT_OUTPUT, "utf8");
	const page = await browser.newPage();
	try {
		const parsed = await page.evaluate((text) => {
			const doc = new DOMParser().parseFromString(text, "image/svg+xml");
			const error = doc.getElementsByTagName("parsererror")[0];
			return { error: error ? error.textContent : null, root: doc.documentElement.nodeName };
		}, svg);
		assert.equal(parsed.error, null, "the SVG is not well-formed XML");
		assert.equal(parsed.root, "svg");
		const broken = await page.evaluate((text) => new DOMParser().parseFromString(text, "image/svg+xml").getElementsByTagName("parsererror").length, svg.replace("</svg>", ""));
		assert.ok(broken > 0, "the parse check sees broken XML");

		const drawn = await measure(page, svg);
		assert.deepEqual(drawn.rows.map((row) => row.name), [...LAYERS].reverse().map((layer) => layer.name));
		for (let i = 1; i < drawn.rows.length; i++) assert.ok(drawn.rows[i]!.y > drawn.rows[i - 1]!.y, "rows go down the table");
		for (const [i, layer] of [...LAYERS].reverse().entries()) {
			for (const folder of new Set(layer.modules.map((m) => m.slice(0, m.indexOf("/") + 1)))) assert.ok(drawn.rows[i]!.text.includes(folder), `${layer.name} shows ${folder}`);
		}
		assert.ok(drawn.texts > 40);
		assert.deepEqual(drawn.outside, [], "texts drawn outside their boxes");
		mkdirSync(join(root, "test-artifacts"), { recursive: true });
		await page.locator("svg").first().screenshot({ path: join(root, "test-artifacts", "architecture.png") });

		// The measurement sees a line too long for its box.
		const long = JSON.parse(source) as { device: { hosts: Array<{ lines: string[] }> } };
		long.device.hosts[0]!.lines.push("a line far too long for a host box of a third of the column");
		const overflowing = await measure(page, renderArchitecture(parseArchitecture(JSON.stringify(long))));
		assert.deepEqual(overflowing.outside.map((t) => t.replace(/ \(.*/, "")), ["a line far too long for a host box of a third of the column"]);
	}
	finally {
		await page.close();
	}
});
