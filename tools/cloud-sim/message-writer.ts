/*
 * The store's message writer, a worker thread with its own SQLite connection:
 * it commits each group of device messages it is sent (message-group.ts) in
 * one transaction (WAL, synchronous = FULL, so the group is on disk when the
 * answer goes back) while the cloud's thread goes on reading and
 * acknowledging. It answers with the sequence number of the group's first
 * message in the messages table: one transaction holds SQLite's write lock,
 * so the group's numbers follow each other. With a commit delay (tests) it
 * waits that long before each commit, as a slow disk would.
 */

import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";
import { readMessageGroup, type MessageRow } from "./message-group.js";

export type WriterAnswer = { first: number; count: number } | { error: string };

if (parentPort) {
	const port = parentPort;
	const { file, commitDelayMs } = workerData as { file: string; commitDelayMs: number };
	const db = new Database(file);
	const pause = new Int32Array(new SharedArrayBuffer(4));
	db.pragma("journal_mode = WAL");
	db.pragma("synchronous = FULL");
	db.pragma("busy_timeout = 5000");
	// a checkpoint costs two more disk flushes: let the WAL grow to about 40 MB before one
	db.pragma("wal_autocheckpoint = 10000");
	const insert = db.prepare("insert into messages (device, topic, direction, payload, received) values (?, ?, ?, ?, ?)");
	const commit = db.transaction((rows: MessageRow[]): number => {
		let first = 0;
		for (let i = 0; i < rows.length; i++) {
			const seq = Number(insert.run(...rows[i]!).lastInsertRowid);
			if (i === 0) first = seq;
			else if (seq !== first + i) throw new Error(`sequence number ${seq} does not follow ${first + i - 1}`);
		}
		return first;
	});
	port.on("message", (group: ArrayBuffer | "close") => {
		if (group === "close") {
			db.close();
			port.close();
			return;
		}
		let answer: WriterAnswer;
		try {
			const rows = readMessageGroup(group);
			if (commitDelayMs > 0) Atomics.wait(pause, 0, 0, commitDelayMs);
			answer = { first: commit(rows), count: rows.length };
		}
		catch (error) {
			answer = { error: error instanceof Error ? error.message : String(error) };
		}
		port.postMessage(answer);
	});
}
