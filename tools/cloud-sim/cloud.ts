/*
 * The local nRF Cloud's device side, composed: a broker (embedded aedes or
 * Debian's Mosquitto, behind broker.ts), registration (JITP), presence, the
 * shadow, association, device messages, the firmware catalog, FOTA jobs and the
 * firmware server. The operator side (REST, dashboard) drives it through the
 * methods of LocalCloud; each method hands the request to the service it concerns.
 */

import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import { Association } from "./association.js";
import type { Broker, BrokerOptions } from "./broker.js";
import { EmbeddedBroker } from "./broker-embedded.js";
import { MosquittoBroker } from "./broker-mosquitto.js";
import { cloudPki } from "./cloud-pki.js";
import { FirmwareCatalog, type FirmwareUpload } from "./firmware.js";
import { FirmwareServer } from "./firmware-server.js";
import { FotaJobs, validTimeout, type JobOutcome, type JobRequest } from "./fota-jobs.js";
import { resolveAddresses, type AddressLookup } from "../lib/listen.js";
import { AWS_IOT_LIMITS, type BrokerLimits } from "./limits.js";
import { Messages } from "./messages.js";
import { trackPresence } from "./presence.js";
import { Registration } from "./registration.js";
import { noDevice, type CloudEvents, type Outcome, type ServiceContext } from "./service-types.js";
import { ShadowService } from "./shadow-service.js";
import { Store, type FirmwareRecord, type JobRecord } from "./store.js";

export { cloudPki } from "./cloud-pki.js";
export type { CloudEvents } from "./service-types.js";

export const STAGE = "prod";

export interface CloudOptions {
	stateDirectory: string;
	mqttPort: number;
	firmwarePort: number;
	/** Host name in the server certificate and in FOTA job documents. */
	hostname?: string;
	/**
	 * "embedded" (default): the built-in broker. "mosquitto": Debian's Mosquitto as the
	 * device-facing broker, with an ACL file for the per-device policy and the cloud's
	 * services attached as a privileged MQTT client.
	 */
	broker?: "embedded" | "mosquitto";
	/** How `localhost` is resolved to the addresses every listener binds; default: the system's resolver. */
	lookup?: AddressLookup;
	/** Default FOTA execution timeout, milliseconds from an execution's start; 0 (default): none. */
	fotaExecutionTimeoutMs?: number;
	/** The embedded broker's limits; AWS IoT's (AWS_IOT_LIMITS) unless changed here. */
	limits?: Partial<BrokerLimits>;
	/** Milliseconds the message writer waits before each group commit (a slow disk); default 0. */
	commitDelayMs?: number;
	log?: (line: string) => void;
}

/** The device-side services, made once the listen addresses are known. */
interface Services {
	broker: Broker;
	shadow: ShadowService;
	association: Association;
	messages: Messages;
	jobs: FotaJobs;
	firmwareServer: FirmwareServer;
}

export class LocalCloud extends EventEmitter<CloudEvents> {
	static readonly SERVICES_ID = MosquittoBroker.SERVICES_ID;

	readonly store: Store;
	readonly hostname: string;
	readonly pkiDirectory: string;
	readonly #options: CloudOptions;
	readonly #log: (line: string) => void;
	readonly #firmware: FirmwareCatalog;
	#services: Services | undefined = undefined;
	#addresses: string[] = [];

	constructor(options: CloudOptions) {
		super();
		if (options.fotaExecutionTimeoutMs !== undefined && !validTimeout(options.fotaExecutionTimeoutMs))
			throw new RangeError("fotaExecutionTimeoutMs must be 0 (none) or a number of milliseconds up to a year");
		this.#options = options;
		this.hostname = options.hostname ?? "localhost";
		this.#log = options.log ?? (() => undefined);
		mkdirSync(options.stateDirectory, { recursive: true });
		this.pkiDirectory = cloudPki(options.stateDirectory, this.hostname).dir;
		this.store = new Store(options.stateDirectory, { commitDelayMs: options.commitDelayMs });
		this.#firmware = new FirmwareCatalog(this.store, options.stateDirectory);
	}

	get external(): boolean {
		return this.#options.broker === "mosquitto";
	}

	get topicPrefix(): string {
		return `${STAGE}/${this.store.tenant}/`;
	}

	/** The addresses the listeners were asked to bind: what `localhost` resolves to. Empty before start. */
	get listenAddresses(): string[] {
		return this.#addresses;
	}

	get #running(): Services {
		if (!this.#services) throw new Error("the cloud has not started");
		return this.#services;
	}

	get mqttPort(): number {
		return this.#running.broker.port;
	}

	get firmwarePort(): number {
		return this.#running.firmwareServer.port;
	}

	async start(): Promise<void> {
		this.#addresses = await resolveAddresses("localhost", this.#options.lookup);
		const broker = this.#makeBroker((id, fingerprint) => registration.admit(id, fingerprint));
		const context: ServiceContext = { broker, store: this.store, topicPrefix: this.topicPrefix, announce: this.emit.bind(this), log: this.#log };
		const registration = new Registration(context);
		const shadow = new ShadowService(context);
		const messages = new Messages(context);
		const firmwareServer = new FirmwareServer(this.#firmware, this.pkiDirectory);
		const jobs = new FotaJobs(context, this.#firmware, {
			firmwareHost: () => `${this.hostname}:${firmwareServer.port}`, executionTimeoutMs: this.#options.fotaExecutionTimeoutMs,
		});
		if (broker.abilities.reportsConnections) trackPresence(context, shadow);
		// A device's own report (its version, its UI cards) changes what the device views show.
		shadow.on("deviceUpdate", (id) => this.emit("device", id));
		broker.on("publish", (id, topic, payload) => {
			if (!broker.abilities.admitsConnections) registration.registerOnFirstMessage(id);
			// each device message concerns one service, told apart by its topic
			if (!shadow.handle(id, topic, payload) && !jobs.handle(id, topic, payload)) messages.handle(id, topic, payload);
		});
		this.#services = { broker, shadow, association: new Association(context, shadow), messages, jobs, firmwareServer };
		await broker.start();
		await firmwareServer.listen(this.#options.firmwarePort, this.#addresses);
	}

	#makeBroker(admit: BrokerOptions["admit"]): Broker {
		const options: BrokerOptions = {
			stateDirectory: this.#options.stateDirectory,
			pkiDirectory: this.pkiDirectory,
			hostname: this.hostname,
			port: this.#options.mqttPort,
			addresses: this.#addresses,
			topicPrefix: this.topicPrefix,
			limits: { ...AWS_IOT_LIMITS, ...this.#options.limits },
			isAssociated: (id) => (this.store.device(id)?.tenant ?? null) !== null,
			associatedDevices: () => this.store.devices().filter((device) => device.tenant !== null).map((device) => device.id),
			admit,
			keep: (id, topic, payload, done) => this.#services?.messages.keep(id, topic, payload, done) ?? false,
			log: this.#log,
		};
		return this.external ? new MosquittoBroker(options) : new EmbeddedBroker(options);
	}

	async stop(): Promise<void> {
		const { broker, firmwareServer, jobs } = this.#running;
		jobs.close();
		await broker.stop();
		await firmwareServer.close();
		await this.store.close();
	}

	/** An operator-side shadow update (REST "state"): desired and/or reported. */
	updateState(id: string, state: unknown): Outcome {
		if (!this.store.device(id)) return noDevice(id);
		const result = this.#running.shadow.update(id, { state });
		if (result.ok) this.emit("device", id);
		return result;
	}

	/** Association with the device's PIN, or its hardware ID (the device ID). */
	associate(id: string, code: string): Outcome {
		return this.#running.association.associate(id, code);
	}

	/** The legacy association by an input sequence of button presses (1 to 4). */
	associateWithSequence(id: string, presses: unknown): Outcome {
		return this.#running.association.associateWithSequence(id, presses);
	}

	disassociate(id: string): Outcome {
		return this.#running.association.disassociate(id);
	}

	deleteDevice(id: string): boolean {
		this.#running.broker.disconnect(id);
		const removed = this.store.deleteDevice(id);
		if (removed) this.emit("device", id);
		return removed;
	}

	/** Sends a cloud-to-device message to an associated device. */
	sendToDevice(id: string, message: string): Outcome {
		return this.#running.messages.sendToDevice(id, message);
	}

	/** Resolves once association changes so far are in force at the broker (Mosquitto reloads its ACL). */
	policyApplied(): Promise<void> {
		return this.#running.broker.policyApplied();
	}

	isConnected(id: string): boolean {
		return this.#running.broker.isConnected(id);
	}

	/** Sets a device's tags (the groups FOTA jobs can target). */
	setTags(id: string, tags: string[]): Outcome {
		if (!this.store.setTags(id, tags)) return noDevice(id);
		this.emit("device", id);
		return { ok: true };
	}

	/** Checks and keeps an uploaded firmware; throws a RangeError when the upload is refused. */
	addFirmware(upload: FirmwareUpload): FirmwareRecord {
		return this.#firmware.add(upload);
	}

	firmwarePath(record: FirmwareRecord): string {
		return this.#firmware.path(record);
	}

	/** Creates a job for the targeted devices whose shadow reports support for the firmware's type. */
	createJob(request: JobRequest): JobOutcome {
		return this.#running.jobs.create(request);
	}

	cancelJob(jobId: string): Outcome {
		return this.#running.jobs.cancel(jobId);
	}

	deleteJob(jobId: string): Outcome {
		return this.#running.jobs.delete(jobId);
	}

	/** A FOTA job as the REST API shows it: target, firmware, status, execution counts and executions. */
	jobView(job: JobRecord): Record<string, unknown> {
		return this.#running.jobs.view(job);
	}
}
