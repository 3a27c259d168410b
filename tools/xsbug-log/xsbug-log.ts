/*
 * xsbug-log: a headless xsbug-protocol debugger. It listens where the XS
 * machine of a debug build connects (XSBUG_HOST, default 127.0.0.1:5002),
 * prints the machine's console output, and prints every exception with its file
 * and line (breaking on exceptions, then resuming at once).
 *
 *   node build/tools/xsbug-log/xsbug-log.js [--port N] [--no-exceptions] [--quiet-child] [-- command ...]
 *
 * With a command, it runs it with XSBUG_HOST pointing here and exits with the
 * command's status once both the command and the connection have ended.
 */

import { spawn } from "node:child_process";
import net from "node:net";
import { Commands, XsbugParser, type MachineMessage } from "./protocol.js";

interface Options {
	host: string;
	port: number;
	exceptions: boolean;
	/** Show the command's own standard output (default) or drop it, keeping only what comes over xsbug. */
	childOutput: "inherit" | "ignore";
	command: string[];
}

function parseArguments(argv: string[]): Options {
	const options: Options = { host: "127.0.0.1", port: 5002, exceptions: true, childOutput: "inherit", command: [] };
	for (let i = 0; i < argv.length; i++) {
		const argument = argv[i]!;
		if (argument === "--") {
			options.command = argv.slice(i + 1);
			break;
		}
		if (argument === "--port") {
			const port = Number(argv[++i]);
			if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error("--port needs a port number (0 for any free port)");
			options.port = port;
		}
		else if (argument === "--no-exceptions") options.exceptions = false;
		else if (argument === "--quiet-child") options.childOutput = "ignore";
		else throw new Error(`unknown argument ${argument}`);
	}
	return options;
}

function where(message: { path?: string; line?: number }): string {
	return message.path ? `${message.path}${message.line ? `:${message.line}` : ""}: ` : "";
}

export function format(message: MachineMessage): string {
	switch (message.kind) {
		case "login": return `xsbug-log: machine "${message.name}" connected`;
		case "log": return `${where(message)}${message.text.replace(/\n$/, "")}`;
		case "break": return `${where(message)}exception: ${message.text.replace(/^# Break: /, "").replace(/!\n?$/, "")}`;
	}
}

async function main(): Promise<void> {
	const options = parseArguments(process.argv.slice(2));
	let connections = 0;
	let open = 0;
	let childStatus: number | null | undefined;
	const server = net.createServer((socket) => {
		connections++;
		open++;
		const parser = new XsbugParser();
		socket.setEncoding("utf8");
		socket.on("data", (chunk: string) => {
			for (const message of parser.push(chunk)) {
				console.log(format(message));
				if (message.kind === "login") {
					if (options.exceptions) socket.write(Commands.breakOnExceptions);
					socket.write(Commands.go);
				}
				else if (message.kind === "break") socket.write(Commands.go);
			}
		});
		socket.on("error", () => undefined);
		socket.on("close", () => {
			open--;
			finishIfDone();
		});
	});
	function finishIfDone(): void {
		if (options.command.length > 0 && childStatus !== undefined && open === 0) {
			server.close();
			process.exitCode = childStatus ?? 1;
		}
	}
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port, options.host, resolve);
	});
	const { port } = server.address() as net.AddressInfo;
	console.error(`xsbug-log: listening on ${options.host}:${port}`);
	if (options.command.length === 0) return;
	const child = spawn(options.command[0]!, options.command.slice(1), {
		stdio: ["ignore", options.childOutput, "inherit"],
		env: { ...process.env, XSBUG_HOST: `${options.host}:${port}` },
	});
	child.on("exit", (status) => {
		childStatus = status;
		if (connections === 0) console.error("xsbug-log: the machine never connected");
		finishIfDone();
	});
}

main().catch((error: unknown) => {
	console.error(`xsbug-log: ${error instanceof Error ? error.message : String(error)}`);
	process.exitCode = 2;
});
