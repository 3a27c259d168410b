/* The local nRF Cloud's REST API as the soak uses it: association. */

import type { Endpoints } from "../cloud-sim/main.js";

/** Associates a registered device with the cloud's account by its PIN or hardware ID. */
export async function associate(endpoints: Endpoints, deviceId: string, code: string): Promise<void> {
	const answer = await fetch(`http://127.0.0.1:${endpoints.httpPort}/v1/association/${encodeURIComponent(deviceId)}`, {
		method: "PUT", headers: { authorization: `Bearer ${endpoints.apiKey}` }, body: code,
	});
	if (answer.status !== 202) throw new Error(`the association of ${deviceId} was refused: ${answer.status} ${await answer.text()}`);
}
