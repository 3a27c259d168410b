/*
 * Runs Debian's Mosquitto on a free loopback port with TLS and required client
 * certificates, and its command-line clients as independent MQTT peers.
 */

import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { userInfo } from "node:os";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { listenOnAll } from "./listen.js";
import type { Pki } from "./pki.js";

/** A port free on each of `addresses` (the ones this machine has), found by binding them all and letting go. */
async function reservePort(addresses: string[], port = 0): Promise<{ port: number; addresses: string[] }> {
	const listening = await listenOnAll(() => net.createServer(), addresses, port);
	await listening.close();
	return { port: listening.port, addresses: listening.addresses };
}

export async function freePort(): Promise<number> {
	return (await reservePort(["127.0.0.1"])).port;
}

async function waitForPort(port: number, addresses: string[], ms: number, child: ChildProcess, log: () => string): Promise<void> {
	const deadline = Date.now() + ms;
	for (const host of addresses) {
		for (;;) {
			if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${log()}`);
			const open = await new Promise<boolean>((resolve) => {
				const socket = net.connect({ host, port }, () => { socket.destroy(); resolve(true); });
				socket.on("error", () => resolve(false));
			});
			if (open) break;
			if (Date.now() > deadline) throw new Error(`mosquitto did not open port ${port} on ${host}: ${log()}`);
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}
}

export interface Mosquitto {
	port: number;
	/** The broker's process id (for its CPU time). */
	pid: number;
	/** The addresses it listens on, all on `port`. */
	addresses: string[];
	log(): string;
	/**
	 * Makes Mosquitto read its configuration again (SIGHUP), e.g. a changed ACL
	 * file. Resolves once its log says it did: Mosquitto reloads in its main loop
	 * before it reads the next packet, so whatever is sent afterwards meets the
	 * new configuration. Needs "log_type information", which startTlsMosquitto sets.
	 */
	reload(): Promise<void>;
	stop(): Promise<void>;
}

/** Files of a TLS broker: the CA that signs client certificates, and the server's certificate and key. */
export interface BrokerTls {
	ca: string;
	cert: string;
	key: string;
}

export interface TlsMosquittoOptions {
	/** 0 (default) takes one free on every address. */
	port?: number;
	/** Addresses to listen on, one listener each on the same port; default 127.0.0.1. */
	addresses?: string[];
	/** Lines for each listener, after its TLS settings (tls_version, …). */
	listenerExtra?: string[];
	/** Lines after the listeners: general settings (acl_file, limits, …) and, with one listener, its own. */
	extra?: string[];
}

/**
 * Mosquitto with TLS and required client certificates, the certificate's CN as user
 * name; its configuration goes to `directory`.
 */
export async function startTlsMosquitto(directory: string, tls: BrokerTls, options: TlsMosquittoOptions = {}): Promise<Mosquitto> {
	const { port, addresses } = await reservePort(options.addresses ?? ["127.0.0.1"], options.port ?? 0);
	const listeners = addresses.flatMap((address) => [
		`listener ${port} ${address}`,
		`cafile ${tls.ca}`,
		`certfile ${tls.cert}`,
		`keyfile ${tls.key}`,
		"require_certificate true",
		"use_identity_as_username true",
		...(options.listenerExtra ?? []),
	]);
	return launch(join(directory, "mosquitto.conf"), port, addresses, [
		`user ${userInfo().username}`,
		"per_listener_settings false",
		"persistence false",
		"allow_anonymous false",
		// stderr, not stdout: C buffers stdout into a pipe, and reload() reads the log as it comes.
		"log_dest stderr",
		"log_type error",
		"log_type warning",
		"log_type notice",
		"log_type information",
		...listeners,
		...(options.extra ?? []),
	]);
}

/** Mosquitto with TLS and required client certificates from `pki`. */
export async function startMosquitto(pki: Pki, extraConfig = ""): Promise<Mosquitto> {
	return startTlsMosquitto(pki.dir, { ca: pki.path("ca.pem"), cert: pki.path("server.pem"), key: pki.path("server.key") }, { extra: [extraConfig] });
}

/** Mosquitto on plain TCP with anonymous clients, for measurements where TLS is not the subject. */
export async function startPlainMosquitto(directory: string): Promise<Mosquitto> {
	const port = await freePort();
	return launch(join(directory, "mosquitto-plain.conf"), port, ["127.0.0.1"], [
		`user ${userInfo().username}`,
		"persistence false",
		"allow_anonymous true",
		"log_dest stdout",
		"log_type error",
		`listener ${port} 127.0.0.1`,
	]);
}

const RELOADED = /Reloading config/g;

function reloads(log: string): number {
	return log.match(RELOADED)?.length ?? 0;
}

/** Polls `done` until it holds; rejects after `timeout` ms with what was awaited and the log. */
async function waitFor(done: () => boolean, timeout: number, what: string, log: () => string): Promise<void> {
	const deadline = Date.now() + timeout;
	while (!done()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

async function launch(config: string, port: number, addresses: string[], lines: string[]): Promise<Mosquitto> {
	writeFileSync(config, [...lines, ""].join("\n"));
	const child = spawn("mosquitto", ["-c", config], { stdio: ["ignore", "pipe", "pipe"] });
	let output = "";
	child.stdout!.on("data", (d: Buffer) => { output += d.toString(); });
	child.stderr!.on("data", (d: Buffer) => { output += d.toString(); });
	await waitForPort(port, addresses, 10000, child, () => output);
	return {
		port,
		pid: child.pid!,
		addresses,
		log: () => output,
		reload: async () => {
			const seen = reloads(output);
			child.kill("SIGHUP");
			await waitFor(() => reloads(output) > seen, 10000, "Mosquitto to reload its configuration", () => output);
		},
		stop: async () => {
			if (child.exitCode !== null) return;
			const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
			child.kill("SIGTERM");
			await exited;
		},
	};
}

let toolClients = 0;
const tools = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
	tools.add(child);
	child.once("exit", () => tools.delete(child));
	return child;
}

/** Kills every mosquitto_pub and mosquitto_sub still running, so a failed test leaves nothing behind. */
export function stopTools(): void {
	for (const child of tools) child.kill("SIGKILL");
	tools.clear();
}

/** Where and as whom a tool connects: CA, client certificate and key files; `id` defaults to a unique "nrf-tool-…". */
export interface ToolCredentials {
	port: number;
	ca: string;
	cert: string;
	key: string;
	id?: string;
	host?: string;
}

/** Credentials of client `<client>.pem`/`.key` in a test PKI. */
export function pkiCredentials(pki: Pki, port: number, client: string): ToolCredentials {
	return { port, ca: pki.path("ca.pem"), cert: pki.path(`${client}.pem`), key: pki.path(`${client}.key`) };
}

/** Tool client ids start with "nrf-" so that brokers limited to that prefix accept them. */
function tlsArgs(credentials: ToolCredentials): string[] {
	return ["-i", credentials.id ?? `nrf-tool-${process.pid}-${++toolClients}`, "-h", credentials.host ?? "localhost", "-p", String(credentials.port),
		"--cafile", credentials.ca, "--cert", credentials.cert, "--key", credentials.key];
}

/** mosquitto_pub with the given client certificate. */
export async function mosquittoPub(pki: Pki, port: number, client: string, args: string[]): Promise<void> {
	await mosquittoPubAs(pkiCredentials(pki, port, client), args);
}

/** mosquitto_pub with explicit credentials; rejects with its error output when it fails. */
export async function mosquittoPubAs(credentials: ToolCredentials, args: string[]): Promise<void> {
	const child = track(spawn("mosquitto_pub", [...tlsArgs(credentials), ...args], { stdio: ["ignore", "ignore", "pipe"] }));
	let errors = "";
	child.stderr!.on("data", (d: Buffer) => { errors += d.toString(); });
	const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
	if (code !== 0) throw new Error(`mosquitto_pub failed (${code}): ${errors}`);
}

export interface Subscriber {
	/** Lines printed so far: "topic payload". */
	lines: string[];
	/** QoS granted per filter by the SUBACK (128 for a refused filter). */
	granted: number[];
	/** Resolves once `count` messages arrived. */
	wait(count: number, ms?: number): Promise<string[]>;
	stop(): void;
}

/** mosquitto_sub, resolved once its SUBACK arrived. */
export async function mosquittoSub(pki: Pki, port: number, client: string, args: string[]): Promise<Subscriber> {
	return mosquittoSubAs(pkiCredentials(pki, port, client), args);
}

/** mosquitto_sub with explicit credentials, resolved once its SUBACK arrived (`granted` holds the granted QoS values). */
export async function mosquittoSubAs(credentials: ToolCredentials, args: string[]): Promise<Subscriber> {
	// stdbuf: mosquitto_sub buffers its output when it goes to a pipe
	const child = track(spawn("stdbuf", ["-oL", "mosquitto_sub", ...tlsArgs(credentials), "-d", "-v", ...args], { stdio: ["ignore", "pipe", "pipe"] }));
	const lines: string[] = [];
	const granted: number[] = [];
	let subscribed = false;
	let buffered = "";
	child.stdout!.on("data", (d: Buffer) => {
		buffered += d.toString();
		let newline: number;
		while ((newline = buffered.indexOf("\n")) >= 0) {
			const line = buffered.slice(0, newline);
			buffered = buffered.slice(newline + 1);
			if (line.includes("received SUBACK")) subscribed = true;
			else if (line.startsWith("Subscribed (mid:")) granted.push(...line.replace(/^Subscribed \(mid: \d+\): /, "").split(",").map(Number));
			else if (!line.startsWith("Client ") && !line.startsWith("All subscription requests were denied")) lines.push(line);
		}
	});
	let errors = "";
	child.stderr!.on("data", (d: Buffer) => { errors += d.toString(); });
	const deadline = Date.now() + 10000;
	while (!subscribed) {
		if (child.exitCode !== null || Date.now() > deadline) {
			child.kill("SIGKILL");
			throw new Error(`mosquitto_sub did not subscribe: ${errors}`);
		}
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	// the "Subscribed" line follows the SUBACK line
	const grantedBy = Date.now() + 2000;
	while (granted.length === 0 && Date.now() < grantedBy && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 10));
	return {
		lines,
		granted,
		async wait(count: number, ms = 10000) {
			const end = Date.now() + ms;
			while (lines.length < count) {
				if (Date.now() > end) throw new Error(`mosquitto_sub got ${lines.length} of ${count} messages: ${lines.join(" | ")} ${errors}`);
				await new Promise((resolve) => setTimeout(resolve, 20));
			}
			return lines.slice();
		},
		stop: () => { child.kill("SIGTERM"); },
	};
}

/**
 * mosquitto_rr over MQTT 3.1.1: subscribes to `responseTopic`, publishes the request, and
 * resolves with the first response payload.
 */
export async function mosquittoRequest(credentials: ToolCredentials, requestTopic: string, responseTopic: string, payload: string, timeoutSeconds = 10): Promise<string> {
	const args = [...tlsArgs(credentials), "-V", "311", "-q", "1", "-t", requestTopic, "-e", responseTopic, "-W", String(timeoutSeconds)];
	const child = track(spawn("mosquitto_rr", payload === "" ? [...args, "-n"] : [...args, "-m", payload], { stdio: ["ignore", "pipe", "pipe"] }));
	let output = "";
	let errors = "";
	child.stdout!.on("data", (d: Buffer) => { output += d.toString(); });
	child.stderr!.on("data", (d: Buffer) => { errors += d.toString(); });
	const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
	if (code !== 0) throw new Error(`mosquitto_rr failed (${code}): ${errors}`);
	return output.replace(/\n$/, "");
}
