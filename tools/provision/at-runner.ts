/*
 * Runs inside the simulator host for `npm run provision`: stores a CA
 * certificate, a client certificate and a private key in a modem security tag
 * with AT%CMNG, as a real device is provisioned over its serial AT interface.
 * Arguments: tag, CA PEM, certificate PEM, key PEM. Prints the tag's listing,
 * then "IMEI <imei>" and "UUID <device UUID>" (AT+CGSN, AT%ATTESTTOKEN). With
 * the one argument "identity" it only prints those two lines: provisioning
 * reads the device's ID before it makes the certificate for it.
 */

import { CredentialType, at, deviceUuid, imei, listCredentials, writeCredential } from "../../modules/modem/at.js";

const [tagText, ca, certificate, key] = native("xs_sim_args")() as string[];
if (tagText !== "identity") store();
console.log(`IMEI ${imei()}`);
console.log(`UUID ${deviceUuid()}`);

function store(): void {
	const tag = Number(tagText);
	if (!ca || !certificate || !key) throw new Error("usage: at-runner TAG CA CERTIFICATE KEY | at-runner identity");
	const online = at("AT+CFUN?")[0] === "+CFUN: 1";
	if (online) at("AT+CFUN=4");
	writeCredential(tag, CredentialType.CA_CERTIFICATE, ca);
	writeCredential(tag, CredentialType.CLIENT_CERTIFICATE, certificate);
	writeCredential(tag, CredentialType.PRIVATE_KEY, key);
	if (online) at("AT+CFUN=1");
	for (const entry of listCredentials(tag)) console.log(`%CMNG: ${entry.tag},${entry.type},"${entry.sha256}"`);
}
