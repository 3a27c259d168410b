/*
 * The store's message writer, a worker thread with its own SQLite connection:
 * it commits each group of device messages it is sent in one transaction
 * (WAL, synchronous = FULL, so the group is on disk when the answer goes
 * back) while the cloud's thread goes on reading and acknowledging. The
 * sequence numbers it answers with are those of the messages table.
 */

import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";

/** One message of a group: device, topic, direction, payload, received (ms). */
export type MessageRow = [string, string, string, string, number];

export type WriterAnswer = { seqs: number[] } | { error: string };

if (parentPort) {
	const port = parentPort;
	const db = new Database((workerData as { file: string }).file);
	db.pragma("journal_mode = WAL");
	db.pragma("synchronous = FULL");
	db.pragma("busy_timeout = 5000");
	// a checkpoint costs two more disk flushes: let the WAL grow to about 40 MB before one
	db.pragma("wal_autocheckpoint = 10000");
	const insert = db.prepare("insert into messages (device, topic, direction, payload, received) values (?, ?, ?, ?, ?)");
	const commit = db.transaction((rows: MessageRow[]) => rows.map((row) => Number(insert.run(...row).lastInsertRowid)));
	port.on("message", (rows: MessageRow[] | "close") => {
		if (rows === "close") {
			db.close();
			port.close();
			return;
		}
		let answer: WriterAnswer;
		try {
			answer = { seqs: commit(rows) };
		}
		catch (error) {
			answer = { error: error instanceof Error ? error.message : String(error) };
		}
		port.postMessage(answer);
	});
}
