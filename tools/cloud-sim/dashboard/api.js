// The dashboard's access to the local nRF Cloud's REST API, with the key the
// page address carries (#key=...), and a small DOM helper.

export const key = new URLSearchParams(location.hash.slice(1)).get("key") ?? "";

/** Calls the REST API; throws an Error with the API's message for an error status. */
export async function api(method, path, body) {
	// FormData sets its own multipart content type; other bodies go as text
	const type = body === undefined || body instanceof FormData ? {} : { "content-type": "text/plain" };
	const response = await fetch(path, { method, headers: { authorization: `Bearer ${key}`, ...type }, body });
	const text = await response.text();
	if (!response.ok) {
		let message = `${response.status}`;
		try { message = JSON.parse(text).message ?? message; } catch { /* not JSON */ }
		throw new Error(message);
	}
	return text ? JSON.parse(text) : undefined;
}

export function element(tag, attributes = {}, text) {
	const node = document.createElement(tag);
	for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
	if (text !== undefined) node.textContent = text;
	return node;
}

/** The time of day of an ISO timestamp, for compact cells and log lines. */
export function timeOfDay(iso) {
	const date = new Date(iso);
	return Number.isNaN(date.getTime()) ? "" : date.toTimeString().slice(0, 8);
}

/** Runs `task` `ms` after a call, once for all the calls until then: live events come faster than a redraw is worth. */
export function coalesce(task, ms) {
	let timer = null;
	return () => {
		if (timer !== null) return;
		timer = setTimeout(() => {
			timer = null;
			Promise.resolve().then(task).catch(console.error);
		}, ms);
	};
}
