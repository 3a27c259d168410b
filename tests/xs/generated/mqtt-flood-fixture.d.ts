/* Written by tests/support/xs-fixtures.ts (writeMqttFloodFixture) before the XS mqtt-flood suite runs. */

export declare const fixture: {
	/** The flooding peer (plain TCP on 127.0.0.1). */
	port: number;
	/** QoS 1 publishes the peer sends on each connection, ids 1 to count (tests/support/mqtt-flood.ts). */
	count: number;
};
