/*
 * system/lifecycle in the simulator host: the host's own stop request and
 * exit (hosts/sim/main.c, host.c), which also serve test programs directly.
 */

#include "xsmc.h"
#include "sim.h"

void xs_sim_on_stop(xsMachine* the);
void xs_sim_exit(xsMachine* the);

void xs_lifecycle_on_stop(xsMachine* the)
{
	xs_sim_on_stop(the);
}

void xs_lifecycle_exit(xsMachine* the)
{
	xs_sim_exit(the);
}
