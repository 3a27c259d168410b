/*
 * The machine side of the xsbug protocol as a debugger sees it: XML messages
 * wrapped in <xsbug>...</xsbug>. This parser extracts what a log client needs:
 * the login, log lines (with their path and line when present) and breaks.
 */

export type MachineMessage =
	| { kind: "login"; name: string }
	| { kind: "log"; text: string; path?: string; line?: number }
	| { kind: "break"; text: string; path?: string; line?: number };

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
	return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, entity: string) => {
		if (entity.startsWith("#x")) return String.fromCodePoint(parseInt(entity.slice(2), 16));
		if (entity.startsWith("#")) return String.fromCodePoint(parseInt(entity.slice(1), 10));
		return ENTITIES[entity] ?? whole;
	});
}

function attributes(source: string): Record<string, string> {
	const result: Record<string, string> = {};
	for (const match of source.matchAll(/([\w:-]+)="([^"]*)"/g)) result[match[1]!] = decodeEntities(match[2]!);
	return result;
}

function located(kind: "log" | "break", attrs: Record<string, string>, body: string): MachineMessage {
	const message: { kind: "log" | "break"; text: string; path?: string; line?: number } = { kind, text: decodeEntities(body) };
	if (attrs.path) message.path = attrs.path;
	if (attrs.line) message.line = Number(attrs.line);
	return message;
}

/** Feeds bytes from the machine; returns the complete messages found. */
export class XsbugParser {
	#buffer = "";

	push(chunk: string): MachineMessage[] {
		this.#buffer += chunk;
		const messages: MachineMessage[] = [];
		for (;;) {
			const start = this.#buffer.indexOf("<xsbug>");
			if (start < 0) {
				this.#buffer = this.#buffer.slice(-8);
				break;
			}
			const end = this.#buffer.indexOf("</xsbug>", start);
			if (end < 0) {
				this.#buffer = this.#buffer.slice(start);
				break;
			}
			const block = this.#buffer.slice(start + 7, end);
			this.#buffer = this.#buffer.slice(end + 8);
			for (const match of block.matchAll(/<login([^>]*)\/>|<(log|break)([^>]*)>([\s\S]*?)<\/\2>/g)) {
				if (match[1] !== undefined) messages.push({ kind: "login", name: attributes(match[1]).name ?? "" });
				else messages.push(located(match[2] as "log" | "break", attributes(match[3]!), match[4]!));
			}
		}
		return messages;
	}
}

/** Debugger commands, each ended as the machine expects. */
export const Commands = Object.freeze({
	go: "\r\n<go/>\r\n",
	breakOnExceptions: '\r\n<set-all-breakpoints><breakpoint path="exceptions" line="0"/></set-all-breakpoints>\r\n',
	logout: "\r\n<logout/>\r\n",
});
