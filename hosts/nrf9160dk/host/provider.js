/*
 * The ECMA-419 host provider of the board (embedded:provider/builtin): the
 * module the Moddable SDK's mcdevicetree generates from the board's
 * devicetree. The project's own bindings (modem, sockets, storage, DFU) are
 * modules of their own, not parts of the provider.
 */

import device from "mc/devicetree";

export default device;
