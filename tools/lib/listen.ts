/*
 * Where the local cloud listens: on every address `localhost` resolves to, all on
 * one port. Debian's /etc/hosts gives both ::1 and 127.0.0.1, and a device (or a
 * tool) that resolves the host name may try ::1 first; a cloud on 127.0.0.1 alone
 * would refuse it there.
 */

import { promises as dns, type LookupAddress } from "node:dns";
import type { AddressInfo, Server } from "node:net";

/** Resolves a host name to all its addresses, as dns.lookup(host, { all: true }) does. */
export type AddressLookup = (host: string) => Promise<LookupAddress[]>;

export const systemLookup: AddressLookup = (host) => dns.lookup(host, { all: true });

/** The distinct addresses `host` resolves to, in the resolver's order. */
export async function resolveAddresses(host = "localhost", lookup: AddressLookup = systemLookup): Promise<string[]> {
	const addresses = (await lookup(host)).map((entry) => entry.address);
	if (addresses.length === 0) throw new Error(`${host} resolves to no address`);
	return [...new Set(addresses)];
}

export interface Listening<S extends Server> {
	port: number;
	/** The addresses bound, in the order given; an address the machine does not have is left out. */
	addresses: string[];
	servers: S[];
	close(): Promise<void>;
}

/** Errors of an address this machine cannot bind at all, such as ::1 where IPv6 is disabled. */
const UNAVAILABLE = new Set(["EADDRNOTAVAIL", "EAFNOSUPPORT"]);

/** When the port is chosen by the system, times to try again if another program holds it on a later address. */
const PORT_ATTEMPTS = 5;

function listen(server: Server, port: number, address: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const failed = (error: Error): void => reject(error);
		server.once("error", failed);
		server.listen(port, address, () => {
			server.off("error", failed);
			resolve();
		});
	});
}

function closeAll(servers: Server[]): Promise<void> {
	return Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))).then(() => undefined);
}

function code(error: unknown): string | undefined {
	return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function listenOnce<S extends Server>(create: () => S, addresses: string[], port: number): Promise<Listening<S>> {
	const servers: S[] = [];
	const bound: string[] = [];
	let chosen = port;
	try {
		for (const address of addresses) {
			const server = create();
			try {
				await listen(server, chosen, address);
			}
			catch (error) {
				if (UNAVAILABLE.has(code(error) ?? "")) continue;
				throw error;
			}
			servers.push(server);
			bound.push(address);
			// the first bind picks the port when none was asked for; the others take the same one
			if (chosen === 0) chosen = (server.address() as AddressInfo).port;
		}
	}
	catch (error) {
		await closeAll(servers);
		throw error;
	}
	if (servers.length === 0) throw new Error(`none of ${addresses.join(", ")} can be bound on this machine`);
	return { port: chosen, addresses: bound, servers, close: () => closeAll(servers) };
}

/**
 * One server from `create` per address, all on `port` (0: the port the first bind
 * gets). Rejects, leaving nothing open, when an address cannot be bound.
 */
export async function listenOnAll<S extends Server>(create: () => S, addresses: string[], port: number): Promise<Listening<S>> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await listenOnce(create, addresses, port);
		}
		catch (error) {
			if (port !== 0 || code(error) !== "EADDRINUSE" || attempt >= PORT_ATTEMPTS) throw error;
		}
	}
}
