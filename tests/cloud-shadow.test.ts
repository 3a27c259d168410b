/* AWS shadow semantics of the local nRF Cloud, as pure functions. */

import assert from "node:assert/strict";
import { test } from "node:test";
import { applyUpdate, computeDelta, getAccepted, newShadow, trimmed, type ShadowDocument } from "../tools/cloud-sim/shadow.js";

function accepted(result: ReturnType<typeof applyUpdate>): ShadowDocument {
	assert.ok(result.ok, JSON.stringify(result));
	return (result as { document: ShadowDocument }).document;
}

test("merge, null deletes, versions and metadata timestamps", () => {
	let doc = newShadow({ pairing: { state: "not_associated" } }, 100);
	assert.equal(doc.version, 1);
	doc = accepted(applyUpdate(doc, { state: { reported: { a: 1, nested: { b: 2, c: 3 } } } }, 101));
	assert.equal(doc.version, 2);
	assert.deepEqual(doc.metadata.reported, { a: { timestamp: 101 }, nested: { b: { timestamp: 101 }, c: { timestamp: 101 } } });
	doc = accepted(applyUpdate(doc, { state: { reported: { nested: { b: null, d: [1, 2] }, a: null } } }, 102));
	assert.deepEqual(doc.state.reported, { nested: { c: 3, d: [1, 2] } });
	assert.deepEqual(doc.metadata.reported, { nested: { c: { timestamp: 101 }, d: { timestamp: 102 } } });
	doc = accepted(applyUpdate(doc, { state: { reported: null } }, 103));
	assert.equal(doc.state.reported, undefined);
	assert.equal(doc.version, 4);
});

test("updates are checked: state required, sections are objects, version conflicts, the 8 KB limit", () => {
	const doc = newShadow({}, 1);
	for (const bad of [null, 5, {}, { state: 1 }, { state: { desired: 5 } }, { state: { other: {} } }]) {
		const result = applyUpdate(doc, bad, 2);
		assert.equal(result.ok, false, JSON.stringify(bad));
		assert.equal((result as { code: number }).code, 400);
	}
	assert.deepEqual(applyUpdate(doc, { state: { reported: { x: 1 } }, version: 7 }, 2), { ok: false, code: 409, message: "Version conflict" });
	assert.equal(applyUpdate(doc, { state: { reported: { x: 1 } }, version: 1 }, 2).ok, true);
	assert.deepEqual(applyUpdate(doc, { state: { reported: { blob: "x".repeat(8200) } } }, 2), { ok: false, code: 413, message: "The payload exceeds the maximum size allowed" });
});

test("deltas hold the desired values that differ from reported, only after desired changes", () => {
	let doc = newShadow({ pairing: { state: "not_associated" } }, 1);
	let result = applyUpdate(doc, { state: { reported: { pairing: { state: "not_associated" } } } }, 2);
	assert.ok(result.ok && result.delta === undefined, "a reported-only update publishes no delta");
	doc = accepted(result);
	result = applyUpdate(doc, { state: { desired: { pairing: { state: "paired", topics: { d2c: "d", c2d: "c" } }, nrfcloud_mqtt_topic_prefix: "prod/t/" } } }, 3);
	assert.ok(result.ok);
	assert.deepEqual(result.ok && result.delta, {
		version: 3, timestamp: 3,
		state: { pairing: { state: "paired", topics: { d2c: "d", c2d: "c" } }, nrfcloud_mqtt_topic_prefix: "prod/t/" },
		metadata: { pairing: { state: { timestamp: 3 }, topics: { d2c: { timestamp: 3 }, c2d: { timestamp: 3 } } }, nrfcloud_mqtt_topic_prefix: { timestamp: 3 } },
	});
	assert.deepEqual(computeDelta({ a: 1, b: { c: 2, d: 3 } }, { a: 1, b: { c: 2, d: 4 } }), { b: { d: 3 } });
	assert.deepEqual(computeDelta({ a: [1, 2] }, { a: [1, 2] }), {});
});

test("get/accepted carries state, metadata and delta; the trimmed form has no wrapper and stays under 2 KB", () => {
	let doc = newShadow({ pairing: { state: "not_associated" }, config: { GPS: { enable: true } } }, 1);
	doc = accepted(applyUpdate(doc, { state: { reported: { connection: { status: "connected" } } } }, 2));
	const full = getAccepted(doc);
	assert.deepEqual(Object.keys(full).sort(), ["metadata", "state", "timestamp", "version"]);
	assert.deepEqual((full.state as Record<string, unknown>).delta, { pairing: { state: "not_associated" }, config: { GPS: { enable: true } } });
	assert.deepEqual(trimmed(doc), {
		desired: { pairing: { state: "not_associated" }, config: { GPS: { enable: true } } },
		config: { GPS: { enable: true } },
		reported: { connection: { status: "connected" } },
	});
	doc = accepted(applyUpdate(doc, { state: { reported: { big: "y".repeat(3000) } } }, 3));
	const small = trimmed(doc);
	assert.equal(small.reported, undefined, "reported is left out when it would pass 2 KB");
	assert.ok(JSON.stringify(small).length < 2048);
});
