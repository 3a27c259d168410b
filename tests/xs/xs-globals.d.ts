declare function trace(...values: unknown[]): void;
