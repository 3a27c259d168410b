/* Written by tests/sim-download.test.ts (writeDownloadFixture) before the XS download suite runs. */

export declare const fixture: import("../../support/xs-fixtures.js").DownloadFixture;
