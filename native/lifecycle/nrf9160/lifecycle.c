/*
 * system/lifecycle on the nRF9160: nothing asks a board to stop (its power is
 * cut), so the stop callback is checked and kept nowhere; the app's end is a
 * cold reset, after which MCUboot starts the firmware again.
 */

#include "../../nrf9160/binding.h"

void xs_lifecycle_on_stop(xsMachine* the)
{
	if (xsmcTypeOf(xsArg(0)) != xsReferenceType)
		xsTypeError("the stop callback must be a function");
}

void xs_lifecycle_exit(xsMachine* the)
{
	(void)the;
	sys_reboot(SYS_REBOOT_COLD);
}
